import Foundation
import VerkShared

/// Frames to the parent, written by one writer thread that takes everything queued so far in one write:
/// batching with no timers (one frame per write when idle, dozens under load).
/// `@unchecked Sendable`: `buffer`, `writing` and `closed` are only touched under `condition`; the socket
/// is only written under `writeLock`.
final class Outbox: @unchecked Sendable {
    private let fd: Int32
    private let condition = NSCondition()
    private var buffer: [UInt8] = []
    private var writing = false
    private var closed = false
    /// Held around every socket write, so frames written from different threads never interleave.
    private let writeLock = NSLock()
    private let onBrokenPipe: @Sendable () -> Void

    init(fd: Int32, onBrokenPipe: @escaping @Sendable () -> Void) {
        self.fd = fd
        self.onBrokenPipe = onBrokenPipe
    }

    func start() {
        let thread = Thread { [self] in writerLoop() }
        thread.name = "verk-outbox"
        thread.start()
    }

    func send(_ frame: Frame) {
        condition.lock()
        FrameEncoder.append(frame, to: &buffer)
        condition.signal()
        condition.unlock()
    }

    /// Writes a frame to the socket now, from the calling thread, and returns when it is there (or the
    /// socket is gone). `writeLock` keeps it from interleaving with the writer thread's batches.
    func sendNow(_ frame: Frame) {
        let bytes = FrameEncoder.encode(frame)
        writeLock.lock()
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
            swap(&batch, &buffer)
            writing = true
            condition.unlock()
            writeLock.lock()
            let ok = FrameSocket.writeAll(fd, batch)
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
