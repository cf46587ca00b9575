import Foundation
import Testing
import VerkShared

/// With no `prefetch` configured, a queue with a backlog of short jobs holds more than the old fixed window
/// (concurrency + concurrency) in its worker process: the adaptive window is wired into the queue manager.
@Suite struct AdaptivePrefetchTests {
    @Test func aBacklogOfShortJobsGrowsTheWindowBeyondTwiceTheConcurrency() throws {
        let ns = TestRedis.freshNamespace()
        let keys = KeySpace(namespace: ns)
        let conn = try TestRedis.connection()
        let client = try VerkClient(url: TestRedis.url, namespace: ns)
        // 1 ms jobs at concurrency 2: the threads get through 10 in 5 ms, so the window heads for 2 + 10.
        _ = try client.enqueue(many: (0..<4_000).map { _ in Job(className: "SleepWorker", args: [1]) })
        let node = try DemoNode(namespace: ns, queues: ["default:2"], nodeID: "adaptive-node")
        var largest = 0
        try eventually(timeout: 30, "more than 4 jobs in progress (the old fixed window at concurrency 2)") {
            largest = max(largest, try conn.command("LLEN", keys.inProgress(queue: "default", node: "adaptive-node")).int ?? 0)
            return largest > 4
        }
        #expect(largest <= 2 + PrefetchWindow.maximum)
        #expect(node.stop() == 0)
    }
}
