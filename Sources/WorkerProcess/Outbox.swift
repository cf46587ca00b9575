import FoundationEssentials
import VerkShared

/// Frames to the parent, batched by combining rather than by a writer thread: the thread that queues a
/// frame while no write is under way writes everything queued so far itself, and keeps writing until
/// nothing is left; a thread that queues one meanwhile only appends it. So an idle process writes each
/// frame at once, a busy one writes dozens per `send`, and no frame costs a thread wake-up (a writer
/// thread woken for each frame was most of the worker process's CPU on short jobs).
/// Frames reach the socket in the order queued: only the one writing thread takes from the buffer.
/// `@unchecked Sendable`: `buffer`, `writing` and `closed` are only touched under `condition`.
final class Outbox: @unchecked Sendable {
    private let fd: Int32
    private let condition = ThreadCondition()
    private var buffer: [UInt8] = []
    /// A thread is taking batches from `buffer` and writing them.
    private var writing = false
    private var closed = false
    /// The other of the two buffers that `buffer` and the batch being written swap between.
    private var spare: [UInt8] = []
    private let onBrokenPipe: @Sendable () -> Void

    init(fd: Int32, onBrokenPipe: @escaping @Sendable () -> Void) {
        self.fd = fd
        self.onBrokenPipe = onBrokenPipe
    }

    /// Queues a frame; writes it (and whatever is queued) now unless another thread is already writing,
    /// in which case that thread writes it before it stops.
    func send(_ frame: Frame) {
        condition.lock()
        FrameEncoder.append(frame, to: &buffer)
        if writing || closed { return condition.unlock() }
        writing = true
        condition.unlock()
        writeQueued()
    }

    /// Like `send`, and returns once the frame is on the socket (or the socket is gone). Frames queued
    /// before it go first: a job's `started` must not overtake the `done` of the job its thread ran
    /// before, or a crash right after the start (a poison job) leaves that finished job looking as if it
    /// were running, and it runs again.
    func sendNow(_ frame: Frame) {
        condition.lock()
        FrameEncoder.append(frame, to: &buffer)
        if writing {
            // The writing thread stops only once the buffer is empty: then this frame is written.
            while writing && !closed { condition.wait() }
            return condition.unlock()
        }
        if closed { return condition.unlock() }
        writing = true
        condition.unlock()
        writeQueued()
    }

    /// Blocks until everything queued has been written, or `timeout` seconds have passed (a supervisor
    /// that has stopped reading must not keep an exiting process alive).
    func flush(timeout: Double = .infinity) {
        let deadline = Date().addingTimeInterval(timeout)
        condition.lock()
        while (!buffer.isEmpty || writing) && !closed && Date() < deadline {
            if !writing {
                // Queued by nobody's write (cannot happen today, but never leave frames behind).
                writing = true
                condition.unlock()
                writeQueued()
                condition.lock()
                continue
            }
            _ = condition.wait(until: min(deadline, Date().addingTimeInterval(0.05)))
        }
        condition.unlock()
    }

    /// Called with `writing` set by this thread: writes batches until the buffer is empty.
    private func writeQueued() {
        condition.lock()
        var batch: [UInt8] = []
        swap(&batch, &spare)
        var broken = false
        while !buffer.isEmpty && !closed {
            swap(&batch, &buffer)
            condition.unlock()
            let ok = FrameSocket.writeAll(fd, batch)
            batch.removeAll(keepingCapacity: true)
            condition.lock()
            if !ok {
                closed = true
                broken = true
            }
        }
        swap(&batch, &spare)
        writing = false
        condition.broadcast()
        condition.unlock()
        if broken { onBrokenPipe() }
    }
}
