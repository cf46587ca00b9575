import Foundation
import Testing
import Logging
import VerkShared
import VerkSupervisor

/// Queues added, removed, paused and resumed on running nodes, through Redis (`QueueControl`, what
/// `verk queue …` and `Supervisor.addQueue/pause/…` write).
@Suite(.serialized) struct RuntimeQueueTests {
    func logLines(_ node: DemoNode, _ text: String, queue: String) -> Int {
        node.process.stderr.split(separator: "\n").filter { $0.contains(text) && $0.contains("queue=\(queue)") }.count
    }

    @Test func aQueueAddedAtRuntimeRunsJobsFromRubySidekiqAndOneRemovedWhileRunningLosesNone() throws {
        let ns = TestRedis.freshNamespace()
        let keys = KeySpace(namespace: ns)
        let file = RecordFile()
        defer { file.remove() }
        let node = try DemoNode(namespace: ns, queues: ["default:2"])
        let conn = try TestRedis.connection()
        let control = QueueControl(redis: conn, keys: keys)
        try control.addQueue("extra", concurrency: 3, node: node.nodeID)
        try eventually("the added queue's worker process to start") { node.latestPID("extra") != nil }
        let pushed = try Sidekiq.json("""
            jids = (0...20).map { |i| Sidekiq::Client.push('class' => 'RecordWorker', 'queue' => 'extra', 'args' => ['\(file.path)', i]) }
            puts JSON.generate(jids)
            """, namespace: ns).arrayValue?.compactMap(\.stringValue) ?? []
        #expect(pushed.count == 20)
        try eventually("Ruby's jobs to run on the added queue") { Set(file.counts().keys) == Set(pushed) }

        // Removed while jobs run: running ones finish, unstarted ones go back, the process stops.
        let client = try VerkClient(url: TestRedis.url, namespace: ns)
        let slow = try client.enqueue(many: (0..<30).map { _ in Job(className: "SleepWorker", args: [100], queue: "extra") })
        try eventually("the slow jobs to be under way") { try conn.command("LLEN", keys.inProgress(queue: "extra", node: node.nodeID)).int ?? 0 > 0 }
        let pid = try #require(node.latestPID("extra"))
        try control.removeQueue("extra", node: node.nodeID)
        try eventually("the removed queue to drain and stop") { logLines(node, "queue stopped", queue: "extra") == 1 && kill(pid, 0) != 0 }
        #expect(try conn.command("LLEN", keys.inProgress(queue: "extra", node: node.nodeID)).int == 0, "nothing left in progress")
        let processed = try conn.command("HGET", keys.queueStats("extra"), "processed").int ?? 0
        let left = try conn.command("LLEN", keys.queue("extra")).int ?? 0
        #expect(processed - 20 + left == slow.count, "every slow job ran or is back in its queue: \(processed - 20) + \(left)")
        #expect(try conn.command("HGET", keys.queueStats("extra"), "failed").int ?? 0 == 0, "no job was charged")
        #expect(node.isAlive && node.latestPID("default") != nil, "the node and its other queue keep running")
        #expect(node.stop() == 0)
    }

    @Test func pauseHoldsJobsBackOnTwoNodesResumeReleasesThemAndThePauseOutlivesARestart() throws {
        let ns = TestRedis.freshNamespace()
        let keys = KeySpace(namespace: ns)
        let file = RecordFile()
        defer { file.remove() }
        let a = try DemoNode(namespace: ns, queues: ["default:2", "other:1"], nodeID: "pause-a")
        let b = try DemoNode(namespace: ns, queues: ["default:2", "other:1"], nodeID: "pause-b")
        let conn = try TestRedis.connection()
        let control = QueueControl(redis: conn, keys: keys)
        let client = try VerkClient(url: TestRedis.url, namespace: ns)
        try control.pause("default")
        try eventually("both nodes to pause the queue") { logLines(a, "queue paused", queue: "default") == 1 && logLines(b, "queue paused", queue: "default") == 1 }
        let held = try enqueueRecords(client, file: file, count: 20, queue: "default")
        // Both nodes keep serving their other queue meanwhile: the paused one is held, not stuck.
        let canaries = try enqueueRecords(client, file: file, count: 4, queue: "other")
        try eventually("the other queue to keep running on both nodes") { Set(canaries).isSubset(of: Set(file.counts().keys)) }
        #expect(try conn.command("LLEN", keys.queue("default")).int == 20, "paused: every job still waits in its queue")
        #expect(Set(file.counts().keys).isDisjoint(with: held))

        // Restart node a: the pause is in Redis, so it comes back paused (no worker process for the queue).
        #expect(a.stop() == 0)
        let again = try DemoNode(namespace: ns, queues: ["default:2", "other:1"], nodeID: "pause-a", waitFor: ["other"])
        let more = try enqueueRecords(client, file: file, count: 2, queue: "other")
        try eventually("the restarted node to serve its other queue") { Set(more).isSubset(of: Set(file.counts().keys)) }
        #expect(again.latestPID("default") == nil, "still paused after the restart")
        #expect(try conn.command("LLEN", keys.queue("default")).int == 20)

        try control.resume("default")
        try eventually("resume to release every held job") { Set(held).isSubset(of: Set(file.counts().keys)) }
        #expect(b.stop() == 0)
        #expect(again.stop() == 0)
    }

    @Test func theSupervisorsOwnAPIWritesTheRecordsItsWatcherApplies() throws {
        let ns = TestRedis.freshNamespace()
        var configuration = VerkConfiguration(redisURL: TestRedis.url, queues: [QueueConfiguration("default")], nodeID: "api-node")
        configuration.namespace = ns
        // Not run: the API writes to Redis from any thread, before or while the node runs.
        let supervisor = Supervisor(configuration: configuration, logger: Logger(label: "test"))
        let control = QueueControl(redis: try TestRedis.connection(), keys: KeySpace(namespace: ns))
        try supervisor.addQueue("reports", concurrency: 2)
        try supervisor.pause("mail")
        #expect(try control.overrides(node: "api-node").added == ["reports": 2], "for this node only")
        #expect(try control.overrides(node: "other").added.isEmpty)
        #expect(try control.pausedQueues() == ["mail"], "pause is fleet-wide")
        try supervisor.removeQueue("reports")
        try supervisor.resume("mail")
        #expect(try control.overrides(node: "api-node").removed == ["reports"])
        #expect(try control.pausedQueues().isEmpty)
        #expect(throws: ConfigurationError.self) { try supervisor.addQueue("no spaces allowed", concurrency: 2) }
        #expect(throws: ConfigurationError.self) { try supervisor.addQueue("reports", concurrency: 0) }
    }
}
