import Foundation
import Testing
import VerkShared

/// Quiet as Sidekiq means it: prefetched jobs go back to the queue, none starts after quiet, running jobs
/// finish, and the node moves no due retry or scheduled job.
@Suite struct QuietTests {
    @Test func aQuietNodeHandsBackPrefetchedJobsStartsNoneFinishesRunningOnesAndStopsItsPoller() throws {
        let ns = TestRedis.freshNamespace()
        let keys = KeySpace(namespace: ns)
        let file = RecordFile()
        defer { file.remove() }
        let conn = try TestRedis.connection()
        let node = try DemoNode(namespace: ns, queues: ["default:2"], nodeID: "quiet-node")
        let client = try VerkClient(url: TestRedis.url, namespace: ns)
        let running = try client.enqueue(many: (0..<2).map { i in Job(className: "RecordWorker", args: [.string(file.path), .int(i), 1500]) })
        try eventually("both long jobs to run") { try conn.command("HGET", keys.queueStats("default"), "processed").int == nil
            && (try conn.command("LLEN", keys.inProgress(queue: "default", node: "quiet-node")).int) == 2 }
        // Two more fill the prefetch window, in the worker process but not started.
        let prefetched = try client.enqueue(many: (2..<4).map { i in Job(className: "RecordWorker", args: [.string(file.path), .int(i)]) })
        try eventually("the prefetched jobs to be sent to the worker process") {
            try conn.command("LLEN", keys.inProgress(queue: "default", node: "quiet-node")).int == 4
        }
        #expect(try Binaries.verk(["--namespace", ns, "quiet", "quiet-node"]).status == 0)
        try eventually("the prefetched jobs to be back in the queue") { try conn.command("LLEN", keys.queue("default")).int == 2 }
        // A retry due now: a quiet node must leave it where it is.
        try conn.command("ZADD", keys.retry, Timestamp.now() - 1, Job(className: "RecordWorker", args: [.string(file.path), 99]).encoded())
        try eventually("the running jobs to finish") { Set(running).isSubset(of: Set(file.counts().keys)) }
        try eventually("the node to report quiet") { node.process.stderr.contains("node quiet") }
        let later = try client.enqueue(Job(className: "RecordWorker", args: [.string(file.path), 100]))
        // Several poll intervals (0.1 s) pass while the long jobs finish; nothing else may have run.
        #expect(Set(file.counts().keys).isDisjoint(with: prefetched + [later]), "no job started after quiet")
        #expect(try conn.command("ZCARD", keys.retry).int == 1, "the due retry stayed in the retry set")
        try eventually("the finished jobs' acknowledgements to reach Redis") {
            try conn.command("LLEN", keys.inProgress(queue: "default", node: "quiet-node")).int == 0
        }
        #expect(node.process.stderr.contains("quiet requested through the node's signal list"))
        #expect(node.stop() == 0)
        #expect(try conn.command("LLEN", keys.queue("default")).int == 3)
    }
}
