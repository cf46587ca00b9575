import Synchronization

/// What a queue has been told at runtime, beyond the node-wide `StopSignal`: paused (fetch nothing,
/// let running jobs finish) and removed (drain and end). Set by the control watcher, read by the queue
/// manager's loop each cycle. Lock-free.
final class QueueDirectives: Sendable {
    private let paused = Atomic<Bool>(false)
    private let removed = Atomic<Bool>(false)

    init(paused: Bool = false) { self.paused.store(paused, ordering: .relaxed) }

    var isPaused: Bool { paused.load(ordering: .relaxed) }
    var isRemoved: Bool { removed.load(ordering: .relaxed) }

    func setPaused(_ value: Bool) { paused.store(value, ordering: .relaxed) }
    func remove() { removed.store(true, ordering: .relaxed) }
}
