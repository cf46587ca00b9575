import Foundation
import Testing
import VerkShared

/// What jobs print reaches the node's stdout (a file here, a pipe under Kubernetes) as it is printed, and
/// nothing a worker process still holds is lost when it is stopped; each job gets one log line.
@Suite(.serialized) struct JobOutputTests {
    @Test func jobOutputReachesTheNodesStdoutWhileItRunsAndWhenItsProcessIsStopped() throws {
        let ns = TestRedis.freshNamespace()
        let file = RecordFile()
        defer { file.remove() }
        let node = try DemoNode(namespace: ns, queues: ["out:1"])
        let client = try VerkClient(url: TestRedis.url, namespace: ns)
        let tag = JobID.generate().prefix(8)

        let jid = try client.enqueue("PrintWorker", args: [.string("line-\(tag)")], queue: "out")
        try eventually("the printed line in the node's stdout") { node.process.stdout.contains("line-\(tag)\n") }
        #expect(node.isAlive, "seen while the node runs, not only once it exits")
        try eventually("the job's log line, with its jid, class, queue and duration") {
            node.process.stderr.split(separator: "\n").contains { line in
                line.contains("job done") && line.contains("jid=\(jid)") && line.contains("class=PrintWorker")
                    && line.contains("queue=out") && line.contains("duration_ms=")
            }
        }

        // Text without a newline waits in stdout's line buffer: a SIGTERM to the worker process must flush it.
        // With one job thread, the RecordWorker job running means the PrintWorker job before it has finished.
        try client.enqueue("PrintWorker", args: [.string("held-\(tag)"), false], queue: "out")
        try client.enqueue("RecordWorker", args: [.string(file.path)], queue: "out")
        try eventually("the job after the print to run") { file.counts().count == 1 }
        #expect(!node.process.stdout.contains("held-\(tag)"), "still buffered, so what follows tests the flush")
        let pid = try #require(node.latestPID("out"))
        kill(pid, SIGTERM)
        try eventually("the buffered text flushed as the worker process exits") { node.process.stdout.contains("held-\(tag)") }
        try eventually("the supervisor to see it exit by itself, not die of the signal") {
            node.process.stderr.split(separator: "\n").contains { $0.contains("pid=\(pid)") && $0.contains("exited with status 0") }
        }
        try eventually("a replacement worker process") { node.latestPID("out").map { $0 != pid } ?? false }

        // And when the node itself is stopped, its draining worker process flushes on the way out.
        try client.enqueue("PrintWorker", args: [.string("drained-\(tag)"), false], queue: "out")
        try client.enqueue("RecordWorker", args: [.string(file.path)], queue: "out")
        try eventually("the job after the second print to run") { file.counts().count == 2 }
        #expect(!node.process.stdout.contains("drained-\(tag)"))
        #expect(node.stop() == 0)
        #expect(node.process.stdout.contains("drained-\(tag)"))
        #expect(node.process.stdout.contains("line-\(tag)\n"))
    }

    @Test func jobLogLevelOffWritesNoPerJobLine() throws {
        let ns = TestRedis.freshNamespace()
        let file = RecordFile()
        defer { file.remove() }
        let node = try DemoNode(namespace: ns, queues: ["quiet:2"], extraEnv: ["VERK_JOB_LOG_LEVEL": "off"])
        let client = try VerkClient(url: TestRedis.url, namespace: ns)
        let jid = try client.enqueue("RecordWorker", args: [.string(file.path)], queue: "quiet")
        try eventually("the job to run") { file.counts()[jid] == 1 }
        #expect(node.stop() == 0)
        #expect(node.process.stderr.contains("worker process ready"), "the node did log at info")
        #expect(!node.process.stderr.contains("job done"))
        #expect(!node.process.stderr.contains(jid))
    }
}
