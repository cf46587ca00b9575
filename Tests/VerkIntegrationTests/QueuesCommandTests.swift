import Foundation
import Testing
import VerkShared

/// `verk queues`, end to end through the built binary, over stats, queues and work hashes written by hand.
@Suite(.serialized) struct QueuesCommandTests {
    @Test func queuesJSONShowsSizeLatencyTotalsRunningJobsAndPaused() throws {
        let ns = TestRedis.freshNamespace()
        let keys = KeySpace(namespace: ns)
        let conn = try TestRedis.connection()
        let now = Timestamp.now()
        // Two jobs in `default`, the older enqueued 30 s ago (the pop end is the list's tail).
        for age in [30.0, 5.0] {
            var job = Job(className: "A", args: [])
            JobPush.normalize(&job, now: now - age)
            job.enqueuedAt = now - age
            try conn.command("LPUSH", keys.queue("default"), job.encoded())
        }
        try conn.command("SADD", keys.queues, "default", "mail")
        try conn.command("HSET", keys.queueStats("default"), "processed", "7", "failed", "2")
        try conn.command("HSET", keys.queueStats("mail"), "processed", "1")
        // A live Verk process running two `default` jobs and one `mail` job, under both work-hash names.
        let live = "node-a:100:aaaaaaaaaaaa"
        try conn.command("HSET", keys.process(live), "info", "{}", "busy", "3")
        for key in [keys.processWork(live), keys.processWorkersLegacy(live)] {
            try conn.command("HSET", key, "default-1", Self.work("default"), "default-2", Self.work("default"), "mail-1", Self.work("mail"))
        }
        // A Ruby Sidekiq 6.4.1 process (legacy name only) running one `default` job, with a junk entry.
        let ruby = "node-b:200:bbbbbbbbbbbb"
        try conn.command("HSET", keys.process(ruby), "info", "{}", "busy", "1")
        try conn.command("HSET", keys.processWorkersLegacy(ruby), "tid-1", Self.work("default"), "tid-2", "not json")
        // A dead process: its record expired, its work must not count.
        let dead = "node-c:300:cccccccccccc"
        try conn.command("HSET", keys.processWork(dead), "default-1", Self.work("default"))
        try conn.command("SADD", keys.processes, live, ruby, dead)
        // `held` is only paused: it has never been used, but an operator sees it.
        let pause = try Binaries.verk(["queue", "pause", "held", "--namespace", ns])
        #expect(pause.status == 0, "\(pause.stderr)")

        let result = try Binaries.verk(["queues", "--json", "--namespace", ns])
        #expect(result.status == 0, "\(result.stderr)")
        let queues = try JSONParser.parse(result.stdout)
        #expect(queues.objectValue?.keys.sorted() == ["default", "held", "mail"])
        let d = try #require(queues["default"])
        #expect(d["size"] == 2 && d["processed"] == 7 && d["failed"] == 2 && d["running"] == 3 && d["paused"] == false)
        let latency = try #require(d["latency"]?.doubleValue)
        #expect((30...40).contains(latency), "latency \(latency)")
        #expect(queues["mail"] == ["size": 0, "latency": 0.0, "processed": 1, "failed": 0, "running": 1, "paused": false])
        #expect(queues["held"] == ["size": 0, "latency": 0.0, "processed": 0, "failed": 0, "running": 0, "paused": true])

        let table = try Binaries.verk(["queues", "--namespace", ns])
        #expect(table.status == 0)
        let lines = table.stdout.split(separator: "\n").map { $0.split(separator: " ").map(String.init) }
        #expect(lines.first == ["QUEUE", "SIZE", "LATENCY", "PROCESSED", "FAILED", "RUNNING", "STATE"])
        #expect(lines.dropFirst().map { [$0[0], $0[1], $0[3], $0[4], $0[5], $0[6]] } == [
            ["default", "2", "7", "2", "3", "active"], ["held", "0", "0", "0", "0", "paused"], ["mail", "0", "1", "0", "1", "active"],
        ])
    }

    /// A work-hash value as Sidekiq's Busy page reads it.
    static func work(_ queue: String) -> [UInt8] {
        JSONWriter.encode(["queue": .string(queue), "payload": #"{"class":"A","args":[]}"#, "run_at": .int(Int(Timestamp.now()))])
    }
}
