import Foundation
import Testing
import VerkShared

/// Timestamps in the three forms that share a Redis: float seconds (Sidekiq 6 and 7, Exq, ours), integer
/// milliseconds (Sidekiq 8) and integer seconds (Verk) are read right, and `timestamp_format` writes ours.
@Suite(.serialized) struct TimestampUnitTests {
    /// `verk stats --json` and `verk queues --json` (Sidekiq's latency: now minus the oldest `enqueued_at`).
    func latencies(_ ns: String) throws -> (stats: Double?, queues: Double?) {
        let stats = try Binaries.verk(["stats", "--json", "--namespace", ns])
        let queues = try Binaries.verk(["queues", "--json", "--namespace", ns])
        #expect(stats.status == 0 && queues.status == 0, "\(stats.stderr) \(queues.stderr)")
        return (try JSONParser.parse(stats.stdout)["queues"]?["default"]?["latency"]?.doubleValue,
                try JSONParser.parse(queues.stdout)["default"]?["latency"]?.doubleValue)
    }

    @Test(arguments: ["sidekiq-8-job.json", "verk-1.7.3-queue.jsonl"])
    func latencyOfTheirJobsIsRight(_ fixture: String) throws {
        let ns = TestRedis.freshNamespace("ts")
        let keys = KeySpace(namespace: ns)
        let conn = try TestRedis.connection()
        let payloads = try PeerFixtures.payloads(fixture)
        for payload in payloads { try conn.command("LPUSH", keys.queue("default"), Array(payload.utf8)) }
        try conn.command("SADD", keys.queues, "default")  // Verk does not add it; Sidekiq's stats only know listed queues
        let enqueuedAt = try #require(PeerFixtures.field(payloads[0], "enqueued_at")?.doubleValue)
        let seconds = enqueuedAt >= 1e11 ? enqueuedAt / 1000 : enqueuedAt
        let expected = Timestamp.now() - seconds
        try #require(expected > 60, "the fixture was written in the past, so a misread unit cannot pass as 0")
        let (stats, queues) = try latencies(ns)
        #expect(abs((stats ?? -1) - expected) < 5, "verk stats: \(String(describing: stats)) vs \(expected)")
        #expect(abs((queues ?? -1) - expected) < 5, "verk queues: \(String(describing: queues)) vs \(expected)")
        let api = try #require(try Stats.read(conn, keys: keys).queues["default"])
        #expect(abs(api.latency - expected) < 5)
    }

    @Test func aSidekiq8JobRunsAndIsRetriedOnTimeInMilliseconds() throws {
        let ns = TestRedis.freshNamespace("ts")
        let keys = KeySpace(namespace: ns)
        let conn = try TestRedis.connection()
        let payload = try #require(try PeerFixtures.payloads("sidekiq-8-job.json").first)
        try conn.command("LPUSH", keys.queue("default"), Array(payload.utf8))
        // JobContext.enqueuedAt in milliseconds: LatencyWorker writes now − enqueued_at in µs.
        let latencyFile = NSTemporaryDirectory() + "verk-latency-" + JobID.generate().prefix(8)
        defer { unlink(latencyFile) }
        let twoSecondsAgo = Int((Timestamp.now() - 2) * 1000)
        try conn.command("LPUSH", keys.queue("default"), Array(#"{"retry":true,"queue":"default","class":"LatencyWorker","args":["\#(latencyFile)"],"jid":"5d9a3b1f0c2e4a6b8d7c9e02","created_at":\#(twoSecondsAgo),"enqueued_at":\#(twoSecondsAgo)}"#.utf8))
        let node = try DemoNode(namespace: ns, queues: ["default:2"])
        try eventually("the Sidekiq 8 job to fail into retry") { try conn.command("ZCARD", keys.retry).int == 1 }
        let reply = try conn.command("ZRANGE", keys.retry, 0, -1, "WITHSCORES").array ?? []
        let member = try #require(reply.first?.bytes).string
        let score = try #require(reply.last?.double)
        #expect(PeerFixtures.field(member, "error_message") == #"HardJob got [1,"two"]"#, "the worker saw its args: \(member)")
        #expect(PeerFixtures.field(member, "retry_count") == 0)
        let failedAt = try #require(PeerFixtures.field(member, "failed_at")?.numberValue)
        #expect(failedAt.isInteger, "milliseconds, as the job came: \(member)")
        let failedSeconds = (failedAt.doubleValue ?? 0) / 1000
        #expect(abs(failedSeconds - Timestamp.now()) < 30)
        #expect((failedSeconds + 15...failedSeconds + 25).contains(score), "Sidekiq's first delay, 15–24 s: \(score - failedSeconds)")
        for field in ["created_at", "enqueued_at"] {
            #expect(PeerFixtures.field(member, field) == PeerFixtures.field(payload, field), "\(field) kept as written")
        }
        try eventually("LatencyWorker to write its latency") { FileManager.default.fileExists(atPath: latencyFile) }
        let micros = try #require(Int((try String(contentsOfFile: latencyFile, encoding: .utf8)).trimmingCharacters(in: .whitespacesAndNewlines)))
        #expect((2_000_000...12_000_000).contains(micros), "JobContext.enqueuedAt read in milliseconds: \(micros) µs")
        #expect(node.stop() == 0)
    }

    @Test func timestampFormatMillisecondsWritesSidekiq8sForm() throws {
        let ns = TestRedis.freshNamespace("ts")
        let keys = KeySpace(namespace: ns)
        let conn = try TestRedis.connection()
        let client = try VerkClient(url: TestRedis.url, namespace: ns, timestamps: .milliseconds)
        try client.enqueue("EnqueueWorker", args: ["other", "NoopWorker", []])
        let pushed = try #require(try conn.command("LINDEX", keys.queue("default"), 0).bytes).string
        for field in ["created_at", "enqueued_at"] { try expectMilliseconds(pushed, field) }
        // A job with no timestamp of its own gets the configured form when it fails.
        try conn.command("LPUSH", keys.queue("default"), Array(#"{"class":"HardJob","args":[],"jid":"0000000000000000000000ff","retry":true}"#.utf8))
        let node = try DemoNode(namespace: ns, queues: ["default:2"], extraEnv: ["VERK_TIMESTAMP_FORMAT": "milliseconds"])
        try eventually("the job EnqueueWorker enqueues to be pushed") { try conn.command("LLEN", keys.queue("other")).int == 1 }
        let child = try #require(try conn.command("LINDEX", keys.queue("other"), 0).bytes).string
        try expectMilliseconds(child, "created_at")   // written in the worker process
        try expectMilliseconds(child, "enqueued_at")  // written by the supervisor
        try eventually("the bare job to fail into retry") { try conn.command("ZCARD", keys.retry).int == 1 }
        try expectMilliseconds(try #require(try conn.command("ZRANGE", keys.retry, 0, 0).array?.first?.bytes).string, "failed_at")
        #expect(node.stop() == 0)
    }

    func expectMilliseconds(_ payload: String, _ field: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let value = try #require(PeerFixtures.field(payload, field)?.numberValue, "\(field) in \(payload)", sourceLocation: sourceLocation)
        #expect(value.isInteger && abs((value.doubleValue ?? 0) / 1000 - Timestamp.now()) < 60,
                "\(field) in integer milliseconds: \(payload)", sourceLocation: sourceLocation)
    }
}
