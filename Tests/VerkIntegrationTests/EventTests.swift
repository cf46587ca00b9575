import Foundation
import Testing
import VerkShared

/// Events as an app sees them: the demo node prints each one its `onStart` handler receives.
@Suite struct EventTests {
    /// The node's event lines (without the `event ` prefix), in order.
    func events(_ node: DemoNode) -> [String] {
        node.process.stdout.split(separator: "\n").filter { $0.hasPrefix("event ") }.map { String($0.dropFirst(6)) }
    }

    @Test func aJobThatFailsIsRetriedAndSucceedsGivesItsEventsInOrder() throws {
        let ns = TestRedis.freshNamespace()
        let node = try DemoNode(namespace: ns, queues: ["default:2"], extraArgs: ["--print-events"])
        let client = try VerkClient(url: TestRedis.url, namespace: ns)
        let jid = try client.enqueue(Job(className: "FlakyWorker", args: []))
        try eventually("the retry to succeed") { events(node).contains { $0.hasPrefix("JobFinished") && $0.contains(jid) } }
        let mine = events(node).filter { $0.contains("jid=\(jid)") }.map { String($0.split(separator: " ")[0]) }
        #expect(mine == ["JobStarted", "JobFailed", "JobStarted", "JobFinished"])
        let failed = try #require(events(node).first { $0.hasPrefix("JobFailed") })
        #expect(failed.contains("error_class=VerkDemo.FlakyWorker.FirstRunFailure") && failed.contains("outcome=retry"))
        #expect(events(node).first == "QueueRunning queue=default")
        #expect(node.stop() == 0)
    }

    @Test func aCrashAndItsRestartAreAnnounced() throws {
        let ns = TestRedis.freshNamespace()
        let node = try DemoNode(namespace: ns, queues: ["default:1"], extraArgs: ["--print-events"])
        let crashed = try #require(node.latestPID("default"))
        let client = try VerkClient(url: TestRedis.url, namespace: ns)
        let jid = try client.enqueue(Job(className: "CrashWorker", args: [], retry: .disabled))
        try eventually("the replacement to be ready") { events(node).contains { $0.hasPrefix("ProcessRestarted") } }
        let lines = events(node)
        let crash = try #require(lines.firstIndex { $0.hasPrefix("ProcessCrashed") })
        let restart = try #require(lines.firstIndex { $0.hasPrefix("ProcessRestarted") })
        #expect(crash < restart)
        #expect(lines[crash] .contains("pid=\(crashed)") && lines[crash].contains("signal=11") && lines[crash].contains("jobs=1"))
        #expect(lines.firstIndex { $0.hasPrefix("JobStarted") && $0.contains(jid) }.map { $0 < crash } == true)
        try eventually("the crashed job's failure to be recorded") {
            events(node).contains { $0.hasPrefix("JobFailed") && $0.contains(jid) && $0.contains("error_class=Verk.ProcessCrashed") && $0.contains("outcome=discarded") }
        }
        #expect(node.stop() == 0)
    }

    @Test func pausingAQueueAnnouncesPausingPausedAndRunningAgain() throws {
        let ns = TestRedis.freshNamespace()
        let keys = KeySpace(namespace: ns)
        let node = try DemoNode(namespace: ns, queues: ["default:2"], extraArgs: ["--print-events"])
        let control = QueueControl(redis: try TestRedis.connection(), keys: keys)
        let client = try VerkClient(url: TestRedis.url, namespace: ns)
        try client.enqueue(Job(className: "SleepWorker", args: [1000]))
        try eventually("the job to start") { events(node).contains { $0.hasPrefix("JobStarted") } }
        try control.pause("default")
        try eventually("the queue to be paused once its job finished") { events(node).contains("QueuePaused queue=default") }
        try control.resume("default")
        try eventually("the queue to run again") { events(node).filter { $0 == "QueueRunning queue=default" }.count == 2 }
        let names = events(node).map { String($0.split(separator: " ")[0]) }.filter { $0.hasPrefix("Queue") || $0 == "JobFinished" }
        #expect(names == ["QueueRunning", "QueuePausing", "JobFinished", "QueuePaused", "QueueRunning"])
        #expect(events(node).contains("QueuePausing queue=default running=1"))
        #expect(node.stop() == 0)
    }
}
