import Foundation

/// The system under test as the driver holds it: Redis, the partition, and three node ids — `chaos-a`
/// (always there; its supervisor is killed and restarted), `chaos-p` (in the network namespace: the one
/// that is cut off) and `chaos-b` (joins and leaves). Like Kubernetes, the driver restarts a node that
/// exits when it was not asked to, and counts it.
final class Cluster {
    let redis: RedisServer
    let partition: NetworkPartition
    let a: ChaosNode
    let p: ChaosNode
    let b: ChaosNode
    let timeline = Timeline()
    private(set) var unexpectedExits: [String] = []
    private let say: (String) -> Void

    init(redis: RedisServer, partition: NetworkPartition, concurrency: Int, demo: String, root: String, say: @escaping (String) -> Void) {
        self.redis = redis
        self.partition = partition
        self.say = say
        // `idle` gets no jobs: one more worker process per supervisor, for the kills to hit and time.
        a = ChaosNode(id: "chaos-a", queues: ["default:\(concurrency)", "idle:1"], demo: demo, redisURL: redis.url, root: root)
        p = ChaosNode(id: "chaos-p", queues: ["default:\(concurrency)", "idle:1"], demo: demo, redisURL: redis.url(host: partition.hostAddress),
                      root: root, partition: partition)
        b = ChaosNode(id: "chaos-b", queues: ["default:\(max(1, concurrency / 2))"], demo: demo, redisURL: redis.url, root: root)
    }

    var nodes: [ChaosNode] { [a, p, b] }

    func start(_ node: ChaosNode) throws {
        let incarnation = try node.start()
        timeline.watch(incarnation: label(node), records: incarnation.records, log: incarnation.log)
    }

    func label(_ node: ChaosNode) -> String { "\(node.id).\(node.incarnations.count)" }

    /// Waits until the node serves (lease held, worker processes ready); false after `timeout` or if it exited.
    func waitServing(_ node: ChaosNode, timeout: Double = 30) throws -> Bool {
        let deadline = Clock.now() + timeout
        while Clock.now() < deadline {
            if node.isServing { return true }
            if !node.isRunning { return false }
            try pause(0.05)
        }
        return false
    }

    /// Sleeps `seconds` in small steps, restarting nodes that exited unasked and noticing an interrupt.
    func pause(_ seconds: Double) throws {
        let deadline = Clock.now() + seconds
        repeat {
            if Interrupt.requested { throw ChaosError.interrupted }
            try restartUnexpectedExits()
            usleep(UInt32(max(0, min(0.02, deadline - Clock.now())) * 1e6))
        } while Clock.now() < deadline
    }

    private func restartUnexpectedExits() throws {
        for node in nodes where node.wanted {
            guard let process = node.process, let status = process.exitStatus else { continue }
            let why = Self.lastCritical(node.log()) ?? "no critical line in its log"
            unexpectedExits.append("\(label(node)) exited with status \(status): \(why)")
            say("  ! \(label(node)) exited unasked (status \(status): \(why)); restarting it")
            guard unexpectedExits.count <= 30 else { throw ChaosError.setup("nodes keep exiting: \(unexpectedExits.suffix(3))") }
            usleep(300_000)
            try start(node)
        }
    }

    /// Takeovers of node `id` logged by the other nodes so far (a takeover moves its lists back to their
    /// queues, or just removes it from the registry when it had nothing in progress).
    func takeovers(of id: String) -> Int {
        var n = 0
        for node in nodes where node.id != id {
            for incarnation in node.incarnations {
                guard let log = try? String(contentsOfFile: incarnation.log, encoding: .utf8) else { continue }
                n += log.split(separator: "\n").filter { $0.contains("dead_node=\(id) ") && $0.contains("a dead node") }.count
            }
        }
        return n
    }

    static func lastCritical(_ log: String) -> String? {
        let lines = log.split(separator: "\n")
        return (lines.last(where: { $0.contains(" critical ") }) ?? lines.last(where: { $0.contains(" error ") }))
            .map { String($0.split(separator: "]", maxSplits: 1).last ?? $0).trimmingCharacters(in: .whitespaces) }
    }
}

/// SIGINT, SIGTERM or SIGHUP to the driver: the run stops where it is and cleans up (every process it
/// started, stopped by pid; the network namespace deleted).
enum Interrupt {
    private static let state = Flag()

    final class Flag: @unchecked Sendable {  // `value` only under `lock`
        private let lock = NSLock()
        private var value = false
        var isSet: Bool { lock.lock(); defer { lock.unlock() }; return value }
        func set() { lock.lock(); value = true; lock.unlock() }
    }

    static var requested: Bool { state.isSet }

    /// Call before starting any thread: they inherit the blocked mask, so only the waiter sees these.
    static func install() {
        var signals = sigset_t()
        sigemptyset(&signals)
        for s in [SIGINT, SIGTERM, SIGHUP] { sigaddset(&signals, s) }
        pthread_sigmask(SIG_BLOCK, &signals, nil)
        signal(SIGPIPE, SIG_IGN)
        let flag = state, waited = signals
        let waiter = Thread {
            var set = waited
            var sig: Int32 = 0
            while sigwait(&set, &sig) == 0 { flag.set() }
        }
        waiter.name = "chaos-signals"
        waiter.start()
    }
}
