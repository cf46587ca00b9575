import Dispatch
import Synchronization

/// What `/healthz` and `/readyz` judge, kept current by the threads they judge at almost no cost: a queue
/// loop stores its cycle's time and its worker process's state in atomics (it cycles 50,000+ times a second
/// under load: no lock, no allocation), the heartbeat stores when it beat and whether that reached Redis.
/// The HTTP handlers read a `Snapshot`; `HealthChecks` judges it.
package final class NodeHealth: Sendable {
    /// Where a queue's worker process stands, as readiness sees it.
    package enum Worker: UInt8, Sendable {
        /// Started, not yet ready (no hello yet).
        case starting
        case ready
        /// Paused (or pausing): deliberately no process; counts as ready.
        case paused
        /// None: about to be started, or waiting out its restart backoff after a death.
        case absent
        /// Past its restart intensity: it keeps dying, retried slowly.
        case failing
        /// Finishing its jobs: the node or the queue is leaving, or the process is being replaced (memory limit).
        case draining
    }

    /// One queue manager's progress. Written only by its thread; read by the HTTP thread.
    package final class QueueProgress: Sendable {
        package let queue: String
        private let lastCycle: Atomic<UInt64>
        private let worker = Atomic<UInt8>(Worker.starting.rawValue)

        init(queue: String, now: UInt64) {
            self.queue = queue
            lastCycle = Atomic(now)
        }

        /// Once per loop cycle: two relaxed stores.
        @inline(__always)
        package func cycled(worker state: Worker, at now: UInt64 = NodeHealth.now()) {
            lastCycle.store(now, ordering: .relaxed)
            worker.store(state.rawValue, ordering: .relaxed)
        }

        var snapshot: Snapshot.Queue {
            Snapshot.Queue(name: queue, lastCycle: lastCycle.load(ordering: .relaxed),
                           worker: Worker(rawValue: worker.load(ordering: .relaxed)) ?? .starting)
        }
    }

    /// Everything the checks read, at one moment. Times are `NodeHealth.now()` nanoseconds.
    package struct Snapshot: Sendable {
        package struct Queue: Sendable, Equatable {
            package var name: String
            package var lastCycle: UInt64
            package var worker: Worker
        }

        package var now: UInt64
        package var startedAt: UInt64
        /// The queues the node should run now, and the managers running (a removed one drains a while).
        package var expectedQueues: [String]
        package var queues: [Queue]
        /// When the heartbeat last finished a beat, and when one last reached Redis (nil: not yet).
        package var lastBeat: UInt64?
        package var lastBeatReachedRedis: UInt64?
        /// Whether the latest beat reached Redis.
        package var redisReachable: Bool
        package var quiet: Bool
        package var stopping: Bool
    }

    private struct State {
        var expected: [String] = []
        var queues: [String: QueueProgress] = [:]
    }

    private let state = Mutex(State())
    private let startedAt = NodeHealth.now()
    private let lastBeat = Atomic<UInt64>(0)
    private let lastBeatOK = Atomic<UInt64>(0)
    private let beatReachedRedis = Atomic<Bool>(false)
    private let stop: StopSignal

    package init(stop: StopSignal) { self.stop = stop }

    /// A monotonic clock in nanoseconds: a wall-clock step must not make a loop look stuck.
    @inline(__always)
    package static func now() -> UInt64 { DispatchTime.now().uptimeNanoseconds }

    /// The queues the node is meant to run (its configuration plus what it was told at runtime).
    func expect(queues: [String]) { state.withLock { $0.expected = queues } }

    /// A queue manager starts: its progress is watched until `remove`.
    func register(queue: String) -> QueueProgress {
        let progress = QueueProgress(queue: queue, now: Self.now())
        state.withLock { $0.queues[queue] = progress }
        return progress
    }

    /// A queue manager ended (only the one registered last for that name: a replacement may have started).
    func remove(_ progress: QueueProgress) {
        state.withLock { s in
            if s.queues[progress.queue] === progress { s.queues[progress.queue] = nil }
        }
    }

    /// The heartbeat finished a beat; `reachedRedis` says whether all of its commands were answered.
    func beat(reachedRedis: Bool, at now: UInt64 = NodeHealth.now()) {
        lastBeat.store(now, ordering: .relaxed)
        if reachedRedis { lastBeatOK.store(now, ordering: .relaxed) }
        beatReachedRedis.store(reachedRedis, ordering: .relaxed)
    }

    package func snapshot(now: UInt64 = NodeHealth.now()) -> Snapshot {
        let (expected, queues) = state.withLock { ($0.expected, Array($0.queues.values)) }
        let beat = lastBeat.load(ordering: .relaxed), ok = lastBeatOK.load(ordering: .relaxed)
        return Snapshot(now: now, startedAt: startedAt, expectedQueues: expected,
                        queues: queues.map(\.snapshot).sorted { $0.name < $1.name },
                        lastBeat: beat == 0 ? nil : beat, lastBeatReachedRedis: ok == 0 ? nil : ok,
                        redisReachable: beatReachedRedis.load(ordering: .relaxed), quiet: stop.isQuiet, stopping: stop.isStopping)
    }
}
