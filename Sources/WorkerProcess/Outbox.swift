import Foundation
import VerkShared

/// Frames to the parent, written by one writer thread that takes everything queued so far in one write:
/// batching with no timers (one frame per write when idle, dozens under load).
/// `@unchecked Sendable`: `buffer` and `closed` are only touched under `condition`.
final class Outbox: @unchecked Sendable {
    private let fd: Int32
    private let condition = NSCondition()
    private var buffer: [UInt8] = []
    private var writing = false
    private var closed = false
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

    /// Blocks until everything queued has been written.
    func flush() {
        condition.lock()
        while !buffer.isEmpty || writing { _ = condition.wait(until: Date().addingTimeInterval(0.05)) }
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
            if !FrameSocket.writeAll(fd, batch) {
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
