import Glibc
import VerkShared

/// What each queue is running right now, published by the queue managers (at most every 100 ms) and read
/// by the heartbeat for Sidekiq's Busy page. `@unchecked Sendable`: state only under `lock`.
final class WorkState: @unchecked Sendable {
    struct Running: Sendable {
        let payload: [UInt8]
        let startedAt: Double
    }

    struct QueueSnapshot: Sendable {
        var running: [UInt64: Running] = [:]
        var workerPID: pid_t?
        /// The queue's name when the snapshot's key is not it (a quarantine's).
        var queue: String?
    }

    private let lock = ThreadLock()
    private var queues: [String: QueueSnapshot] = [:]
    private var served: [QueueConfiguration] = []

    /// The queues this node serves now (configured, added and removed at runtime), for the heartbeat.
    var servedQueues: [QueueConfiguration] {
        get { lock.withLock { served } }
        set { lock.withLock { served = newValue } }
    }

    /// A queue that ended no longer shows on the Busy page.
    func remove(queue: String) { lock.withLock { _ = queues.removeValue(forKey: queue) } }

    func publish(queue: String, _ snapshot: QueueSnapshot) {
        lock.lock()
        queues[queue] = snapshot
        lock.unlock()
    }

    func snapshot() -> [String: QueueSnapshot] {
        lock.lock()
        defer { lock.unlock() }
        return queues
    }
}
