import FoundationEssentials
import VerkShared

/// Frames to the parent, written by one writer thread that takes everything queued so far in one write:
/// batching with no timers (one frame per write when idle, dozens under load).
/// `@unchecked Sendable`: `buffer`, `writing` and `closed` are only touched under `condition`; the socket
/// is only written under `writeLock`.
final class Outbox: @unchecked Sendable {
    private let fd: Int32
    private let condition = ThreadCondition()
    private var buffer: [UInt8] = []
    private var writing = false
    private var closed = false
    /// Held around every socket write, so frames written from different threads never interleave.
    private let writeLock = ThreadLock()
    private let onBrokenPipe: @Sendable () -> Void

    init(fd: Int32, onBrokenPipe: @escaping @Sendable () -> Void) {
        self.fd = fd
        self.onBrokenPipe = onBrokenPipe
    }

    func start() {
        OSThread.start(name: "verk-outbox") { [self] in writerLoop() }
    }

    func send(_ frame: Frame) {
        condition.lock()
        FrameEncoder.append(frame, to: &buffer)
        condition.signal()
        condition.unlock()
    }

    /// Writes what is queued, then `frame`, to the socket now, from the calling thread, and returns when
    /// they are there (or the socket is gone). Queued frames first: a job's `started` must not overtake the
    /// `done` of the job its thread ran before, or a crash right after the start (a poison job) leaves that
    /// finished job looking as if it were running, and it runs again. Frames are taken from the buffer only
    /// under `writeLock`, here and in the writer thread, so they reach the socket in the order queued.
    func sendNow(_ frame: Frame) {
        writeLock.lock()
        condition.lock()
        var bytes = buffer
        buffer.removeAll(keepingCapacity: true)
        condition.unlock()
        FrameEncoder.append(frame, to: &bytes)
        let ok = FrameSocket.writeAll(fd, bytes)
        writeLock.unlock()
        if !ok { onBrokenPipe() }
    }

    /// Blocks until everything queued has been written, or `timeout` seconds have passed (a supervisor
    /// that has stopped reading must not keep an exiting process alive).
    func flush(timeout: Double = .infinity) {
        let deadline = Date().addingTimeInterval(timeout)
        condition.lock()
        while (!buffer.isEmpty || writing) && Date() < deadline {
            _ = condition.wait(until: min(deadline, Date().addingTimeInterval(0.05)))
        }
        condition.unlock()
        // A sendNow may still be writing frames it took from the buffer.
        if timeout == .infinity { writeLock.lock(); writeLock.unlock() } else if writeLock.lock(before: deadline) { writeLock.unlock() }
    }

    private func writerLoop() {
        var batch: [UInt8] = []
        while true {
            condition.lock()
            while buffer.isEmpty && !closed {
                writing = false
                condition.broadcast()
                condition.wait()
            }
            if closed { condition.unlock(); return }
            writing = true
            condition.unlock()
            writeLock.lock()
            condition.lock()
            swap(&batch, &buffer)  // under writeLock: no sendNow can write newer frames before these
            condition.unlock()
            let ok = batch.isEmpty || FrameSocket.writeAll(fd, batch)
            writeLock.unlock()
            if !ok {
                condition.lock()
                closed = true
                condition.broadcast()
                condition.unlock()
                onBrokenPipe()
                return
            }
            batch.removeAll(keepingCapacity: true)
        }
    }
}
