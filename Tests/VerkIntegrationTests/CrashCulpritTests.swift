import Foundation
import Testing
import VerkShared

/// A crash with several jobs running charges only the job that causes it: the others are suspects, re-run
/// one at a time in a quarantine worker process, and complete uncharged; the culprit goes to dead after
/// killing its process three times, whatever its retry setting.
@Suite struct CrashCulpritTests {
    @Test func aPoisonJobAmongAHundredInnocentsAtConcurrencyTenChargesNoInnocent() throws {
        let ns = TestRedis.freshNamespace()
        let keys = KeySpace(namespace: ns)
        let file = RecordFile()
        defer { file.remove() }
        let node = try DemoNode(namespace: ns, queues: ["default:10"])
        let client = try VerkClient(url: TestRedis.url, namespace: ns)
        let first = try client.enqueue(many: (0..<50).map { i in Job(className: "RecordWorker", args: [.string(file.path), .int(i), 100]) })
        // `retry: true` would allow 25 retries: the poison-pill rule ends it after its third kill.
        let poison = try client.enqueue(Job(className: "CrashWorker", args: []))
        let second = try client.enqueue(many: (50..<100).map { i in Job(className: "RecordWorker", args: [.string(file.path), .int(i), 100]) })
        let innocents = first + second
        let conn = try TestRedis.connection()
        try eventually(timeout: 60, "the poison job to be dead and every innocent to have run") {
            try conn.command("ZCARD", keys.dead).int == 1 && Set(innocents).isSubset(of: Set(file.counts().keys))
        }
        let dead = try #require(try JobSet(.dead, keys: keys).find(conn, jid: poison)?.job)
        #expect(dead.errorClass == "Verk.ProcessCrashed" && dead.errorMessage?.contains("killed its worker process 3 times") == true,
                "\(dead.errorMessage ?? "")")
        #expect(dead["verk_kills"]?.intValue == 3)
        let failed = try conn.command("GET", keys.failed).int ?? 0
        let charged = max(0, failed - 3)
        print("culprits: 1 poison job among \(innocents.count) innocents at concurrency 10: innocents charged \(charged), innocents run twice \(file.counts().values.filter { $0 > 1 }.count), poison killed its process 3 times")
        #expect(failed == 3, "only the poison job's three kills were charged: stat:failed = \(failed)")
        #expect(try conn.command("ZCARD", keys.retry).int == 0)
        // A job that finished just as its neighbour crashed the process, before its `done` frame was written,
        // counts as running: it is a suspect and runs again (at least once, never lost).
        let twice = file.counts().values.filter { $0 > 1 }.count
        #expect(twice <= 9 * 3, "re-runs are bounded by the jobs running beside each crash: \(twice)")
        #expect(try conn.command("LLEN", keys.quarantine(queue: "default", node: node.nodeID)).int == 0)
        #expect(node.process.stderr.contains("suspects"))
        #expect(node.stop() == 0)
    }
}
