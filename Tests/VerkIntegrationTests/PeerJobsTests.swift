import Foundation
import Testing
import VerkShared

/// Jobs Verk 1.7.3 and Exq 0.23 wrote (shared/fixtures/peers), pushed into Redis byte for byte as they
/// wrote them, run on a real node; what we write back keeps the shape their writer reads.
@Suite(.serialized) struct PeerJobsTests {
    static let queueFixtures = ["verk-1.7.3-queue.jsonl", "exq-0.23-queue.jsonl"]
    static let scheduleFixtures = ["verk-1.7.3-schedule.jsonl", "exq-0.23-schedule.jsonl"]
    static let retryFixtures = ["verk-1.7.3-retry.jsonl", "exq-0.23-retry.jsonl"]

    @Test func theirQueuedAndScheduledJobsRunWithTheArgsTheyWrote() throws {
        let ns = TestRedis.freshNamespace("peers")
        let keys = KeySpace(namespace: ns)
        let conn = try TestRedis.connection()
        let file = RecordFile()
        defer { file.remove() }
        var expected: [String: [JSONValue]] = [:]
        for name in Self.queueFixtures + Self.scheduleFixtures {
            for payload in try PeerFixtures.payloads(name, recordingTo: file) where PeerFixtures.field(payload, "class") == "RecordWorker" {
                if Self.scheduleFixtures.contains(name) {
                    try conn.command("ZADD", keys.schedule, Timestamp.now() - 1, Array(payload.utf8))
                } else {
                    try conn.command("LPUSH", keys.queue("default"), Array(payload.utf8))  // no SADD queues, as they push
                }
                expected[try #require(PeerFixtures.field(payload, "jid")?.stringValue)] = try writtenArgs(payload)
            }
        }
        #expect(expected.count == 7, "2 queued by each, 1 scheduled by Verk, 2 by Exq")
        let node = try DemoNode(namespace: ns, queues: ["default:4"])
        try eventually("every RecordWorker job of Verk and Exq to run") { Set(recordedArgs(file).keys) == Set(expected.keys) }
        for (jid, runs) in recordedArgs(file) {
            #expect(runs == [try #require(expected[jid])], "\(jid) runs once with the array its writer meant")
        }
        #expect(try conn.command("ZCARD", keys.schedule).int == 0 && conn.command("ZCARD", keys.retry).int == 0)
        #expect(try conn.command("ZCARD", keys.dead).int == 0, "nothing is an invalid payload")
        #expect(!node.process.stderr.contains("unparsable"), "\(node.process.stderr)")
        #expect(node.stop() == 0)
    }

    @Test func theirRetryLimitsHoldAndWhatWeWriteKeepsTheirShape() throws {
        let ns = TestRedis.freshNamespace("peers")
        let keys = KeySpace(namespace: ns)
        let conn = try TestRedis.connection()
        var written: [String: String] = [:]  // jid → the payload as its writer pushed it
        for name in Self.queueFixtures {
            for payload in try PeerFixtures.payloads(name) where PeerFixtures.field(payload, "class") == "FailWorker" {
                try conn.command("LPUSH", keys.queue("default"), Array(payload.utf8))
                written[try #require(PeerFixtures.field(payload, "jid")?.stringValue)] = payload
            }
        }
        let limitOne = Set(written.filter { PeerFixtures.field($0.value, "max_retry_count") == 1 || PeerFixtures.field($0.value, "retry") == 1 }.keys)
        #expect(limitOne.count == 2, "Verk's max_retry_count: 1 and Exq's retry: 1")
        let node = try DemoNode(namespace: ns, queues: ["default:4"])
        // FailWorker retries at failed_at + retry count: the first retry at once, then a second later.
        try eventually("the jobs with one retry to be dead") { Set(try members(conn, keys.dead).keys) == limitOne }
        try eventually("the jobs with 25 retries to go on failing") {
            let retrying = try members(conn, keys.retry).filter { !limitOne.contains($0.key) }
            return retrying.count == 2 && retrying.values.allSatisfy { (PeerFixtures.field($0, "retry_count")?.intValue ?? 0) >= 3 }
        }
        #expect(Set(try members(conn, keys.dead).keys) == limitOne, "a limit of 25 is not a limit of 1")
        let verkRetry = try PeerFixtures.payloads("verk-1.7.3-retry.jsonl")[1]  // one Verk enqueued and failed once
        let exqRetry = try PeerFixtures.payloads("exq-0.23-retry.jsonl")[0]
        for (jid, dead) in try members(conn, keys.dead) {
            let original = try #require(written[jid])
            let isVerk = PeerFixtures.field(original, "max_retry_count") != nil
            #expect(PeerFixtures.field(dead, "error_class") == "VerkDemo.FailWorker.Failure", "\(dead)")
            #expect(PeerFixtures.field(dead, "error_message") == (try writtenArgs(original)).first, "the worker saw the array")
            #expect(PeerFixtures.field(dead, "retry_count") == 2, "\(isVerk ? "Verk" : "Exq") counts 1 after the first failure")
            try expectShape(of: dead, like: isVerk ? verkRetry : exqRetry, writtenAs: original)
            #expect(kind(PeerFixtures.field(dead, "retried_at")) == (isVerk ? "integer" : "float"))
        }
        #expect(node.stop() == 0)
    }

    @Test func retryEntriesTheyWroteRunAgainAndAreRewrittenInTheirShape() throws {
        let ns = TestRedis.freshNamespace("peers")
        let keys = KeySpace(namespace: ns)
        let conn = try TestRedis.connection()
        var theirs: [String: String] = [:]
        for name in Self.retryFixtures {
            for payload in try PeerFixtures.payloads(name) {
                try conn.command("ZADD", keys.retry, Timestamp.now() - 1, Array(payload.utf8))
                theirs[try #require(PeerFixtures.field(payload, "jid")?.stringValue)] = payload
            }
        }
        #expect(theirs.count == 3)
        let node = try DemoNode(namespace: ns, queues: ["default:2", "verkonly:2", "exqonly:2"])
        // InteropFail has no retryAt: after failing here the entries wait Sidekiq's backoff (16 s or more).
        try eventually("each entry to have run and failed here") {
            let now = try members(conn, keys.retry)
            return Set(now.keys) == Set(theirs.keys)
                && now.values.allSatisfy { PeerFixtures.field($0, "error_class") == "VerkDemo.InteropFail.Failure" }
        }
        for (jid, ours) in try members(conn, keys.retry) {
            let original = try #require(theirs[jid])
            let isVerk = PeerFixtures.field(original, "max_retry_count") != nil
            try expectShape(of: ours, like: original, writtenAs: original)
            #expect(PeerFixtures.field(ours, "error_message") == .string("InteropFail: " + ((try writtenArgs(original)).first?.stringValue ?? "")))
            #expect(PeerFixtures.field(ours, "retry_count") == 2, "their 1 after the first failure, 2 after the second")
            #expect(PeerFixtures.field(ours, "failed_at") == PeerFixtures.field(original, "failed_at"), "set once, at the first failure")
            #expect(kind(PeerFixtures.field(ours, "retried_at")) == (isVerk ? "integer" : "float"))
            #expect(PeerFixtures.field(ours, "enqueued_at").map(kind) == PeerFixtures.field(original, "enqueued_at").map(kind),
                    "the refreshed enqueued_at keeps the form the job came with")
            if isVerk {
                #expect(PeerFixtures.field(ours, "retry") == nil && PeerFixtures.field(ours, "max_retry_count") == PeerFixtures.field(original, "max_retry_count"))
            }
        }
        #expect(try conn.command("ZCARD", keys.dead).int == 0)
        #expect(node.stop() == 0)
    }

    @Test func theCLIListsAndActsOnTheirEntries() throws {
        let ns = TestRedis.freshNamespace("peers")
        let keys = KeySpace(namespace: ns)
        let conn = try TestRedis.connection()
        let later = Timestamp.now() + 3600
        var retryJids: [String] = [], scheduledJids: [String] = []
        for name in Self.retryFixtures {
            for payload in try PeerFixtures.payloads(name) {
                try conn.command("ZADD", keys.retry, later, Array(payload.utf8))
                retryJids.append(try #require(PeerFixtures.field(payload, "jid")?.stringValue))
            }
        }
        for name in Self.scheduleFixtures {
            for payload in try PeerFixtures.payloads(name) {
                try conn.command("ZADD", keys.schedule, later, Array(payload.utf8))
                scheduledJids.append(try #require(PeerFixtures.field(payload, "jid")?.stringValue))
            }
        }
        for (set, jids, cls) in [("retries", retryJids, "InteropFail"), ("scheduled", scheduledJids, "RecordWorker")] {
            let list = try Binaries.verk([set, "list", "--namespace", ns])
            #expect(list.status == 0, "\(list.stderr)")
            #expect(!list.stdout.contains("(invalid payload)"), "\(list.stdout)")
            for jid in jids { #expect(list.stdout.contains("  \(jid)  \(cls)  "), "\(set) list shows \(jid): \(list.stdout)") }
            let json = try JSONParser.parse(try Binaries.verk([set, "list", "--json", "--namespace", ns]).stdout)
            #expect(Set(json.arrayValue?.compactMap { $0["jid"]?.stringValue } ?? []) == Set(jids))
        }

        // Retry now: back to its queue, counted down as Sidekiq's Web does, still in Verk's shape.
        let verkJid = "14021394061560794720"
        #expect(try Binaries.verk(["retries", "retry", verkJid, "--namespace", ns]).stdout == "retry: \(verkJid)\n")
        let requeued = try #require(try conn.command("LINDEX", keys.queue("verkonly"), 0).bytes).string
        #expect(PeerFixtures.field(requeued, "jid") == .string(verkJid) && PeerFixtures.field(requeued, "retry_count") == 0)
        #expect(PeerFixtures.field(requeued, "args") == .string(#"["from verk"]"#))
        #expect(kind(PeerFixtures.field(requeued, "enqueued_at")) == "integer")
        #expect(abs((PeerFixtures.field(requeued, "enqueued_at")?.doubleValue ?? 0) - Timestamp.now()) < 60)

        let exqJid = "38be3e4f93d322520a9f372f"
        #expect(try Binaries.verk(["retries", "kill", exqJid, "--namespace", ns]).status == 0)
        #expect(try Binaries.verk(["dead", "list", "--namespace", ns]).stdout.contains("  \(exqJid)  InteropFail  queue=exqonly"))
        #expect(try Binaries.verk(["dead", "delete", exqJid, "--namespace", ns]).status == 0)
        #expect(try Binaries.verk(["retries", "delete", "9eb9c6aaefd246171874f68e", "--namespace", ns]).status == 0)
        #expect(try Binaries.verk(["scheduled", "delete", "589934762984587251", "--namespace", ns]).status == 0)
        #expect(try conn.command("ZCARD", keys.retry).int == 0 && conn.command("ZCARD", keys.dead).int == 0)
        #expect(try conn.command("ZCARD", keys.schedule).int == 2)
    }

    /// Exq's work entry (`exq-0.23-work-value.json`) is not a job to push: its `payload` is the running job,
    /// as a string. That job reads with its null fields, and an Exq node's running job counts in `verk queues`.
    @Test func anExqNodesRunningJobIsReadAndCounted() throws {
        let ns = TestRedis.freshNamespace("peers")
        let keys = KeySpace(namespace: ns)
        let conn = try TestRedis.connection()
        let value = try #require(try PeerFixtures.payloads("exq-0.23-work-value.json").first)
        let payload = try #require(PeerFixtures.field(value, "payload")?.stringValue)
        let job = try Job(parsing: Array(payload.utf8))
        #expect(job.className == "InteropSleep" && job.args == [6000] && job.dialect == .exq)
        #expect(job.retry == .enabled && job.retryCount == nil && job.failedAt == nil && job.errorMessage == nil)
        // An Exq node as it registers (namespace "", its node id "vm"): process set, record, work hash.
        _ = try conn.pipeline([
            RedisCommand("SADD", keys.queues, "exqonly"), RedisCommand("SADD", keys.processes, "vm"),
            RedisCommand("HSET", keys.process("vm"), "info", #"{"hostname":"vm","identity":"vm"}"#, "busy", 1),
            RedisCommand("HSET", keys.processWorkersLegacy("vm"), "#PID<0.165.0>", Array(value.utf8)),
        ])
        let queues = try Binaries.verk(["queues", "--json", "--namespace", ns])
        #expect(queues.status == 0, "\(queues.stderr)")
        #expect(try JSONParser.parse(queues.stdout)["exqonly"]?["running"] == 1, "\(queues.stdout)")
    }

    /// The jid → member map of a sorted set.
    func members(_ conn: RedisConnection, _ key: String) throws -> [String: String] {
        let all = try conn.command("ZRANGE", key, 0, -1).array ?? []
        var out: [String: String] = [:]
        for member in all.compactMap(\.bytes).map(\.string) {
            if let jid = PeerFixtures.field(member, "jid")?.stringValue { out[jid] = member }
        }
        return out
    }
}

/// `args` as the writer meant it: Verk's string holds the array.
func writtenArgs(_ payload: String) throws -> [JSONValue] {
    switch PeerFixtures.field(payload, "args") {
    case .string(let inner)?: return try #require(try JSONParser.parse(inner).arrayValue)
    case let args?: return try #require(args.arrayValue)
    case nil: throw TestFailure.process("no args in \(payload)")
    }
}

/// A JSON value's kind, telling integers from floats (Verk's and Sidekiq 8's timestamps are integers).
func kind(_ value: JSONValue?) -> String {
    switch value {
    case nil: return "absent"
    case .null?: return "null"
    case .bool?: return "bool"
    case .number(let n)?: return n.isInteger ? "integer" : "float"
    case .string?: return "string"
    case .array?: return "array"
    case .object?: return "object"
    }
}

/// Compares what we wrote with a member the same system wrote, field by field, so that system can read
/// ours back: a field the job already had keeps its kind (Exq's `retry: 25` stays an integer where Exq
/// wrote `true`); a field every failure writes has the kind theirs has (Verk's integer `failed_at`); any
/// other field they wrote is either left out by us or of their kind. The job's own fields keep their value
/// and order unless the failure rewrites them, and the only field we add beyond theirs is `error_class`.
func expectShape(of ours: String, like theirs: String, writtenAs original: String,
                 sourceLocation: SourceLocation = #_sourceLocation) throws {
    let ourObject = try #require(try JSONParser.parse(ours).objectValue)
    let theirObject = try #require(try JSONParser.parse(theirs).objectValue)
    let originalObject = try #require(try JSONParser.parse(original).objectValue)
    let everyFailureWrites: Set = ["failed_at", "retry_count", "error_message"]
    for member in theirObject where !member.value.isNull {
        let ourKind = kind(ourObject[member.key])
        if let before = originalObject[member.key], !before.isNull {
            #expect(ourKind == kind(before), "\(member.key) keeps its kind: \(ours)", sourceLocation: sourceLocation)
        } else if everyFailureWrites.contains(member.key) {
            #expect(ourKind == kind(member.value), "\(member.key) as they write it: \(ours) vs \(theirs)", sourceLocation: sourceLocation)
        } else {
            #expect(["absent", "null", kind(member.value)].contains(ourKind), "\(member.key): \(ours) vs \(theirs)", sourceLocation: sourceLocation)
        }
    }
    let rewritten: Set = ["error_class", "error_message", "failed_at", "retried_at", "retry_count", "enqueued_at", "queue"]
    for member in originalObject where !rewritten.contains(member.key) {
        #expect(ourObject[member.key] == member.value, "\(member.key) kept as written: \(ours)", sourceLocation: sourceLocation)
    }
    let added = Set(ourObject.keys).subtracting(originalObject.keys).subtracting(theirObject.keys)
    #expect(added.isSubset(of: ["error_class"]), "no field but error_class beyond theirs: \(ours)", sourceLocation: sourceLocation)
    #expect(ourObject.keys.filter { originalObject[$0] != nil } == originalObject.keys, "the order kept: \(ours)", sourceLocation: sourceLocation)
}

extension Array where Element == UInt8 {
    var string: String { String(decoding: self, as: UTF8.self) }
}
