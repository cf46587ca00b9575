import Dispatch
import Logging
import VerkShared

/// Applies what operators said at runtime (`verk queue add|remove|pause|resume`, or the same calls on a
/// running `Supervisor`) to this node: every poll it reads the paused set and this node's queue
/// overrides in one round trip (`QueueControl.snapshot`) and hands them to the supervisor, which starts,
/// drains and pauses queue managers to match. Runs on its own thread with its own connection.
final class ControlWatcher {
    private let redis: RedisConnection
    private let control: QueueControl
    private let nodeID: String
    private let interval: Double
    private let stop: StopSignal
    private let logger: Logger
    private var lastProblems: [String] = []
    private var failures = 0

    init(redis: RedisConnection, keys: KeySpace, nodeID: String, interval: Double, stop: StopSignal, logger: Logger) {
        self.redis = redis
        control = QueueControl(redis: redis, keys: keys)
        self.nodeID = nodeID
        self.interval = interval
        self.stop = stop
        self.logger = logger
    }

    /// What the node should run now, or nil when Redis could not be read (keep what runs).
    func read() -> (paused: Set<String>, overrides: QueueOverrides)? {
        do {
            let snapshot = try control.snapshot(node: nodeID)
            failures = 0
            if snapshot.overrides.problems != lastProblems {
                for problem in snapshot.overrides.problems { logger.error("ignoring a runtime queue command", metadata: ["problem": "\(problem)"]) }
                lastProblems = snapshot.overrides.problems
            }
            return snapshot
        } catch {
            failures += 1
            if failures == 1 || failures % 60 == 0 {
                logger.warning("cannot read runtime queue commands; queues stay as they are", metadata: ["error": "\(error)"])
            }
            return nil
        }
    }

    /// Polls until the node stops, calling `apply` with each snapshot read; `wake` polls at once (a
    /// command given through this node's own API).
    func run(wake: DispatchSemaphore, apply: (Set<String>, QueueOverrides) -> Void) {
        while !stop.isStopping {
            if let snapshot = read() { apply(snapshot.paused, snapshot.overrides) }
            _ = wake.wait(timeout: .now() + interval)
        }
    }
}
