import Foundation

/// One node id of the run (`verk-demo` supervisors, one after another under that id). Every start is a
/// new incarnation with a working directory of its own, where its RecordWorker jobs append (their path,
/// `records.jsonl`, is relative) and its log goes: so each recorded run of a job says which incarnation
/// ran it, and a job recorded by two incarnations was re-run because the first one was killed, cut off
/// or left.
final class ChaosNode {
    struct Incarnation {
        let number: Int
        let directory: String
        let process: ChildProcess
        let startedAt: Double
        var records: String { directory + "/" + RecordFiles.name }
        var log: String { directory + "/node.log" }
    }

    static let heartbeat = 1.0
    /// Three beats, as Verk has it.
    static let lease = 3 * heartbeat

    let id: String
    let queues: [String]
    let partition: NetworkPartition?
    private let demo: String
    private let redisURL: String
    private let root: String
    private(set) var incarnations: [Incarnation] = []
    /// The driver wants it running: an exit it did not ask for is restarted (as Kubernetes would).
    var wanted = false

    init(id: String, queues: [String], demo: String, redisURL: String, root: String, partition: NetworkPartition? = nil) {
        self.id = id
        self.queues = queues
        self.demo = demo
        self.redisURL = redisURL
        self.root = root
        self.partition = partition
    }

    var current: Incarnation? { incarnations.last }
    var process: ChildProcess? { current?.process }
    var isRunning: Bool { process?.isRunning ?? false }

    /// Starts a new incarnation under the same id. A predecessor killed with -9 still holds the id's
    /// lease: the new one waits for it to lapse (3 s here), as a restarted pod does.
    @discardableResult
    func start() throws -> Incarnation {
        let number = incarnations.count + 1
        let directory = root + "/\(id).\(number)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var args = ["--node-id", id, "--redis-url", redisURL, "--shutdown-timeout", "2", "--poll-interval", "0.2"]
        for q in queues { args += ["--queue", q] }
        var environment = ProcessInfo.processInfo.environment
        for (key, _) in environment where key.hasPrefix("VERK_") { environment[key] = nil }
        environment.merge([
            // Fast beats: the lease (3 beats) lapses 3 s after a node last reached Redis, and a node is
            // dead (taken over) 6 s after its last beat. Not faster: a connection's reconnect backoff
            // (capped at 1 s) would then eat most of the lease and a short outage would cost it.
            "VERK_HEARTBEAT_INTERVAL": "\(Self.heartbeat)", "VERK_NODE_EXPIRY": "\(2 * Self.lease)",
            "VERK_LOG_LEVEL": "info", "VERK_JOB_LOG_LEVEL": "off",
        ]) { $1 }
        let path = partition?.execPrefix.first ?? demo
        let argv = (partition.map { Array($0.execPrefix.dropFirst()) + [demo] } ?? []) + args
        let process = try ChildProcess(name: "\(id).\(number)", path, argv, environment: environment, directory: directory,
                                       stdout: directory + "/node.out", stderr: directory + "/node.log")
        let incarnation = Incarnation(number: number, directory: directory, process: process, startedAt: Clock.now())
        incarnations.append(incarnation)
        wanted = true
        return incarnation
    }

    /// True once the current incarnation holds its lease and every queue's worker process is ready.
    var isServing: Bool {
        guard let current, current.process.isRunning, let log = try? String(contentsOfFile: current.log, encoding: .utf8) else { return false }
        return log.contains("supervisor started") && log.components(separatedBy: "worker process ready").count > queues.count
    }

    /// The supervisor's children: its worker processes (the queue's own and a quarantine one, if running).
    var workerPIDs: [pid_t] {
        guard let pid = process?.pid, let tasks = try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task") else { return [] }
        var pids: [pid_t] = []
        for task in tasks {
            guard let text = try? String(contentsOfFile: "/proc/\(pid)/task/\(task)/children", encoding: .utf8) else { continue }
            pids += text.split(separator: " ").compactMap { pid_t($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        }
        return pids
    }

    func log() -> String { (current.flatMap { try? String(contentsOfFile: $0.log, encoding: .utf8) }) ?? "" }
}
