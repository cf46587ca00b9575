import VerkShared

/// What the JSON parser and writer promise on any bytes (every job payload read from Redis is parsed):
/// - parsing never traps; a refusal is a `JSONError` with an offset inside the input and a reason;
/// - what parses writes out as JSON that parses to an equal value (with an equal hash), and writing that
///   again gives the same bytes: numbers keep their literal text, objects their key order;
/// - a payload that is a job survives what the supervisor does with a failing job: its typed fields read
///   without trapping, the retry policy rewrites it into a job that parses again, with the same class and
///   args, and every field the policy does not own byte for byte (Sidekiq's `bid`, `tags`, custom fields);
/// - bytes that are not a job (any of them: not JSON, not UTF-8, no class…) park as a job that parses, that
///   Sidekiq's API reads (a class, an args array, a jid and a queue), and that gives the bytes back exactly.
public enum JSONParserInvariants {
    public static func check(_ bytes: [UInt8]) throws(InvariantViolation) {
        do { _ = try Job(parsing: bytes) } catch { try checkParked(bytes, reason: error) }
        let value: JSONValue
        do {
            value = try JSONParser.parse(bytes)
        } catch {
            try ensure((0...bytes.count).contains(error.offset), "JSONError offset \(error.offset) outside 0...\(bytes.count)")
            try ensure(!error.reason.isEmpty, "JSONError with an empty reason at \(error.offset)")
            return
        }
        let written = JSONWriter.encode(value)
        let reparsed: JSONValue
        do { reparsed = try JSONParser.parse(written) } catch {
            throw InvariantViolation("written JSON \(written.shown) does not parse (\(error)); input \(bytes.shown)")
        }
        try ensure(reparsed == value, "written JSON \(written.shown) parses to a different value; input \(bytes.shown)")
        try ensure(reparsed.hashValue == value.hashValue, "equal values with different hashes: \(written.shown)")
        try ensure(JSONWriter.encode(reparsed) == written, "writing the re-parsed value changes its bytes: \(written.shown)")
        readEveryNumber(value)

        if let job = try? Job(value: value) { try checkJob(job, written: written) }
    }

    static func checkParked(_ bytes: [UInt8], reason: JobDecodingError) throws(InvariantViolation) {
        let parked = ParkedPayload.park(bytes, reason: reason, origin: .queue("default"), now: 1_795_598_000.5)
        let again: Job
        do { again = try Job(parsing: parked.encoded()) } catch {
            throw InvariantViolation("the parked job for \(bytes.shown) is not a job (\(error))")
        }
        try ensure(ParkedPayload.original(of: again) == bytes, "the parked job does not give back the bytes \(bytes.shown)")
        try ensure(again.errorClass == VerkErrorClass.invalidPayload.rawValue && again.failedAt != nil, "the parked job lacks its error fields")
        try ensure(again["args"]?.arrayValue != nil && !(again.jid ?? "").isEmpty && again.queue == "default",
                   "the parked job for \(bytes.shown) lacks a Sidekiq field: \(again.json)")
    }

    /// Numbers are read by callers as Int and Double: neither may trap on any literal.
    static func readEveryNumber(_ value: JSONValue) {
        switch value {
        case .number(let n): _ = (n.intValue, n.doubleValue, n.isInteger)
        case .array(let elements): elements.forEach(readEveryNumber)
        case .object(let object): object.forEach { readEveryNumber($0.value) }
        default: break
        }
    }

    /// Fields `RetryPolicy.outcome` writes (`jid` only when it is missing or empty); every other field must
    /// survive its rewrite unchanged.
    static let policyFields: Set<String> = ["jid", "queue", "error_message", "error_class", "retry_count", "failed_at", "retried_at", "error_backtrace"]

    static func checkJob(_ job: Job, written: [UInt8]) throws(InvariantViolation) {
        try ensure(job.encoded() == written, "Job.encoded() differs from the writer's bytes for \(written.shown)")
        _ = (job.className, job.args, job.queue, job.jid, job.retry, job.retryCount, job.createdAt, job.enqueuedAt,
             job.failedAt, job.retriedAt, job.errorClass, job.errorMessage, job.retryQueue, job.skipsDeadSet, job.backtraceLines)
        // The worker process decodes args through Foundation's Codable bridge.
        _ = try? JSONCoding.decode([JSONValue].self, from: .array(job.args))

        let now = 1_795_598_000.5
        let failures = [JobFailure(errorClass: "Verk.Fuzz", message: "fuzz", backtrace: ["a.swift:1", "b.swift:2"]),
                        JobFailure(errorClass: "Verk.InvalidPayload", message: "fuzz", retryable: false)]
        for failure in failures {
            let outcome = RetryPolicy().outcome(for: job, failure: failure, fetchedFrom: "default", now: now)
            if case .retry(let at) = outcome.destination {
                try ensure(at.isFinite && at >= now, "retry at \(at) for \(written.shown)")
            }
            let rewritten = outcome.job.encoded()
            let again: Job
            do { again = try Job(parsing: rewritten) } catch {
                throw InvariantViolation("the retry policy's rewrite \(rewritten.shown) is not a job (\(error))")
            }
            try ensure(again.className == job.className, "the rewrite changed the class of \(written.shown)")
            try ensure(!(again.jid ?? "").isEmpty && ((job.jid ?? "").isEmpty || again.jid == job.jid),
                       "the rewrite lost or changed the jid of \(written.shown)")
            try ensure(JSONWriter.encode(.array(again.args)) == JSONWriter.encode(.array(job.args)), "the rewrite changed the args of \(written.shown)")
            for member in job.fields where !policyFields.contains(member.key) {
                try ensure(again[member.key].map { JSONWriter.encode($0) } == JSONWriter.encode(member.value),
                           "the rewrite changed field '\(member.key)' of \(written.shown)")
            }
        }
    }
}
