import Glibc
import Synchronization

/// What a queue has been told at runtime, beyond the node-wide `StopSignal`: paused (fetch nothing,
/// let running jobs finish) and removed (drain and end). Set by the control watcher, read by the queue
/// manager's loop each cycle; a change also makes `wakeFD` readable, so a loop waiting on its worker
/// process reacts at once rather than at its next timeout.
final class QueueDirectives: Sendable {
    private let paused = Atomic<Bool>(false)
    private let removed = Atomic<Bool>(false)
    private let pipeEnds: (read: Int32, write: Int32)

    init(paused: Bool = false) {
        self.paused.store(paused, ordering: .relaxed)
        var fds: [Int32] = [-1, -1]
        _ = pipe(&fds)
        for fd in fds {
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        }
        pipeEnds = (fds[0], fds[1])
    }

    deinit {
        close(pipeEnds.read)
        close(pipeEnds.write)
    }

    var isPaused: Bool { paused.load(ordering: .relaxed) }
    var isRemoved: Bool { removed.load(ordering: .relaxed) }

    /// Readable after a change; `acknowledge` empties it.
    var wakeFD: Int32 { pipeEnds.read }

    func setPaused(_ value: Bool) {
        if paused.exchange(value, ordering: .relaxed) != value { wake() }
    }

    func remove() {
        if !removed.exchange(true, ordering: .relaxed) { wake() }
    }

    /// Wakes the loop to look at the node's state again (it turned quiet).
    func nudge() { wake() }

    func acknowledge() {
        var buffer = [UInt8](repeating: 0, count: 16)
        while read(pipeEnds.read, &buffer, buffer.count) > 0 {}
    }

    private func wake() {
        var one: UInt8 = 1
        _ = write(pipeEnds.write, &one, 1)
    }
}
