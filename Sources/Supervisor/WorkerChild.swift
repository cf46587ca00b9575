import Foundation
import VerkShared

/// The supervisor's handle on one worker process: its socket (non-blocking, with an output buffer so the
/// supervisor never blocks on a slow child), its pidfd for instant death detection, and its decoder.
/// Confined to its queue manager's thread.
final class WorkerChild {
    /// `draining`: the node is stopping. `recycling`: drained to be replaced (over its memory limit).
    enum State { case starting, ready, draining, recycling }

    let pid: pid_t
    let socket: Int32
    let pidfd: Int32
    let startedAt: Double
    var state = State.starting
    private var decoder = FrameDecoder()
    private var output: [UInt8] = []
    private var outputOffset = 0
    private var exitStatus: ExitStatus?
    private static let scratch = 256 * 1024

    init(_ launched: ChildLauncher.Launched) {
        pid = launched.pid
        socket = launched.socket
        pidfd = launched.pidfd
        startedAt = Timestamp.now()
    }

    deinit {
        close(socket)
        if pidfd >= 0 { close(pidfd) }
    }

    var hasPendingOutput: Bool { outputOffset < output.count }

    func enqueue(_ frame: Frame) { FrameEncoder.append(frame, to: &output) }

    /// Writes what the socket takes now. False if the child's end is closed.
    func flush() -> Bool {
        guard hasPendingOutput else { return true }
        switch FrameSocket.write(socket, output, offset: &outputOffset) {
        case .closed, .failed: return false
        case .bytes, .wouldBlock: break
        }
        if outputOffset == output.count {
            output.removeAll(keepingCapacity: true)
            outputOffset = 0
        }
        return true
    }

    /// Complete frames, then whether the child closed its end or sent something malformed after them.
    /// Frames before a malformed one still count: they may say which jobs had started.
    struct ReadOutcome {
        var frames: [Frame] = []
        var closed = false
        var error: FrameError?
    }

    /// Reads whatever is available and returns the complete frames.
    func read(scratch: UnsafeMutableRawBufferPointer) -> ReadOutcome {
        var outcome = ReadOutcome()
        loop: while true {
            switch FrameSocket.read(socket, into: &decoder, scratch: scratch) {
            case .bytes(let n): if n < scratch.count { break loop }
            case .wouldBlock: break loop
            case .closed, .failed: outcome.closed = true; break loop
            }
        }
        do {
            while let frame = try decoder.next() { outcome.frames.append(frame) }
        } catch {
            outcome.error = error
        }
        return outcome
    }

    /// Non-blocking reap; the exit status once the process has ended.
    func reap() -> ExitStatus? {
        if let exitStatus { return exitStatus }
        var raw: Int32 = 0
        let r = waitpid(pid, &raw, WNOHANG)
        if r == pid { exitStatus = ExitStatus(waitStatus: raw) }
        return exitStatus
    }

    /// Kills and reaps (blocking: after SIGKILL the process is gone within milliseconds).
    @discardableResult
    func kill() -> ExitStatus {
        if let status = reap() { return status }
        Glibc.kill(pid, SIGKILL)
        var raw: Int32 = 0
        while waitpid(pid, &raw, 0) < 0 && errno == EINTR {}
        exitStatus = ExitStatus(waitStatus: raw)
        return exitStatus!
    }

    /// After the socket closed: wait briefly for the exit status (EOF can precede the exit by a moment).
    func awaitExit(timeout: Double = 1) -> ExitStatus {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let status = reap() { return status }
            var p = pollfd(fd: pidfd, events: Int16(POLLIN), revents: 0)
            if pidfd >= 0 { _ = poll(&p, 1, 10) } else { usleep(1000) }
        }
        return kill()
    }
}
