import Foundation
import Testing
import VerkShared

/// A real `verk-demo` supervisor (with its real worker processes) on the test Redis, in its own namespace.
final class DemoNode {
    let process: Spawned
    let namespace: String
    let nodeID: String

    init(namespace: String, queues: [String], nodeID: String = "node-" + JobID.generate().prefix(6),
         shutdownTimeout: Double = 10, pollInterval: Double = 0.1, redisURL: String = TestRedis.url,
         extraEnv: [String: String] = [:], extraArgs: [String] = [], waitFor: [String]? = nil) throws {
        self.namespace = namespace
        self.nodeID = nodeID
        var args = ["--node-id", nodeID, "--shutdown-timeout", "\(shutdownTimeout)", "--poll-interval", "\(pollInterval)"]
        for q in queues { args += ["--queue", q] }
        args += extraArgs
        process = try Spawned(Binaries.demo, args, env: [
            "VERK_REDIS_URL": redisURL, "VERK_NAMESPACE": namespace, "VERK_LOG_LEVEL": "info",
            // Fast beats: a killed node's lease (3 beats) lapses in 1.5 s, and it is dead after 3 s.
            "VERK_HEARTBEAT_INTERVAL": "0.5", "VERK_NODE_EXPIRY": "3",
        ].merging(extraEnv) { $1 })
        // A paused queue starts no worker process: `waitFor` names the queues to wait for.
        let expected = Set(waitFor ?? queues.map { String($0.split(separator: ":").first ?? "") })
        try eventually(timeout: 20, "every worker process of \(nodeID) to start") {
            if process.hasExited { throw TestFailure.process("verk-demo exited: \(process.stderr)") }
            return expected.isSubset(of: Set(workerPIDs().map(\.queue)))
        }
    }

    /// `(queue, pid)` of every worker process started so far, in order, from the supervisor's log.
    func workerPIDs() -> [(queue: String, pid: Int32)] {
        process.stderr.split(separator: "\n").compactMap { line in
            guard line.contains("worker process started"),
                  let pid = line.firstMatch(of: /pid=(\d+)/).flatMap({ Int32($0.1) }),
                  let queue = line.firstMatch(of: /queue=(\S+)/).map({ String($0.1) }) else { return nil }
            return (queue, pid)
        }
    }

    func latestPID(_ queue: String) -> Int32? { workerPIDs().last(where: { $0.queue == queue })?.pid }

    var isAlive: Bool { !process.hasExited }

    /// SIGTERM, then the exit code.
    @discardableResult
    func stop() -> Int32 {
        process.signal(SIGTERM)
        return process.wait()
    }

    deinit {
        if !process.hasExited {
            process.signal(SIGKILL)
            process.wait()
        }
    }
}

/// A file RecordWorker appends to, and what it holds.
struct RecordFile {
    let path = NSTemporaryDirectory() + "verk-record-" + JobID.generate().prefix(10) + ".jsonl"

    /// jid → how many times it was recorded.
    func counts() -> [String: Int] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return [:] }
        var counts: [String: Int] = [:]
        for line in text.split(separator: "\n") {
            if let jid = (try? JSONParser.parse(String(line)))?["jid"]?.stringValue { counts[jid, default: 0] += 1 }
        }
        return counts
    }

    func remove() { unlink(path) }
}

/// Enqueues `count` RecordWorker jobs in one round trip; returns their jids.
func enqueueRecords(_ client: VerkClient, file: RecordFile, count: Int, queue: String) throws -> [String] {
    try client.enqueue(many: (0..<count).map { i in Job(className: "RecordWorker", args: [.string(file.path), .int(i)], queue: queue) })
}
