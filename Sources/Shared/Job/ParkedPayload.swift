/// A payload that is not a runnable Sidekiq job — not JSON, not valid UTF-8, not an object, no `class`,
/// `args` not an array, or (from the schedule and retry sets) a `queue` that names no queue — parked in
/// the dead set **as a well-formed Sidekiq job** that keeps the original bytes, so Sidekiq's API and Web
/// UI, `verk dead list|delete` and this library all read it, and the operator sees what was wrong.
///
/// The parked job has `class` (the original one when it is a readable string, else `Verk.UnreadableJob`),
/// `args` (the original array when it is readable and the payload is valid UTF-8, else `[]`), `queue`,
/// `jid` (the original one when readable, else a new one), `created_at`/`enqueued_at` when the original
/// had them, `error_class` `Verk.InvalidPayload`, an `error_message` saying what was wrong, where it was
/// found and what to do, `failed_at`, and the original payload in `verk_payload` (its text) or, when the
/// bytes are not valid UTF-8 (a JSON string can only hold Unicode), in `verk_payload_base64`. Its other
/// fields are left out: they may be of any type, and the Web UI reads some of them (`tags`).
///
/// A parked job never runs again as it is: its worker process refuses it (`JobRunner`), and such a failure
/// sends it straight back to the dead set. The fix is to correct the original and push that.
package enum ParkedPayload {
    /// The original payload as text, when it is valid UTF-8.
    package static let textField = "verk_payload"
    /// The original payload's bytes in base64, when they are not valid UTF-8.
    package static let base64Field = "verk_payload_base64"
    /// The `class` of a parked job whose own class cannot be read.
    package static let placeholderClass = "Verk.UnreadableJob"

    /// Where the payload was found: a queue (fetched from `queue:NAME`) or a sorted set (`schedule`, `retry`).
    package enum Origin: Sendable, Equatable {
        case queue(String)
        case set(String)

        var phrase: String {
            switch self {
            case .queue(let name): return "fetched from queue '\(name)'"
            case .set(let name): return "found in the \(name) set"
            }
        }
    }

    /// The parked job for `payload`, which did not decode for `reason`. `queue` is the queue it was fetched
    /// from; for a set member, its own queue when that is a name, else `default`.
    package static func park(_ payload: [UInt8], reason: JobDecodingError, origin: Origin, now: Double,
                             timestamps: TimestampFormat = .seconds) -> Job {
        let text = String(validating: payload, as: UTF8.self)
        // Fields are read from what parses, with invalid UTF-8 replaced (U+FFFD); a field holding a replaced
        // byte is not the original and is not kept.
        let object = (try? JSONParser.parse(Array((text ?? String(decoding: payload, as: UTF8.self)).utf8)))?.objectValue
        func readable(_ field: String, numbers: Bool = false) -> String? {
            guard let value = object?[field],
                  let s = value.stringValue ?? (numbers ? value.numberValue?.literal : nil), !s.isEmpty,
                  text != nil || !s.contains("\u{FFFD}") else { return nil }
            return s
        }
        let queue: String
        switch origin {
        case .queue(let name): queue = name
        case .set: queue = readable("queue") ?? "default"
        }
        let args = text != nil ? Job.argsArray(object?["args"]) : nil
        var job = Job(className: readable("class") ?? placeholderClass, args: args ?? [], queue: queue)
        job["retry"] = nil  // a parked job never retries: it goes back to dead whatever it said
        job.jid = readable("jid", numbers: true) ?? JobID.generate()
        for field in [Job.TimestampField.createdAt, .enqueuedAt] {
            if let value = object?[field.rawValue], value.numberValue != nil { job[field.rawValue] = value }
        }
        job.errorClass = VerkErrorClass.invalidPayload.rawValue
        job.errorMessage = message(reason: reason, origin: origin, utf8: text != nil)
        job.setTimestamp(.failedAt, now, defaultFormat: timestamps)
        if let text { job[textField] = .string(text) } else { job[base64Field] = .string(Base64.encode(payload)) }
        return job
    }

    /// What was wrong, where, and what to do.
    static func message(reason: JobDecodingError, origin: Origin, utf8: Bool) -> String {
        let field = utf8 ? "\(textField) field" : "\(base64Field) field (in base64: the bytes are not valid UTF-8)"
        return "\(reason), \(origin.phrase): it can never run, so it was parked in the dead set; its original payload is in the "
            + "\(field): fix it and push it again, then delete this entry"
    }

    /// True for a job this type parked.
    package static func isParked(_ job: Job) -> Bool { job[textField] != nil || job[base64Field] != nil }

    /// The original payload's bytes of a parked job.
    package static func original(of job: Job) -> [UInt8]? {
        if let text = job[textField]?.stringValue { return Array(text.utf8) }
        return job[base64Field]?.stringValue.flatMap(Base64.decode)
    }
}
