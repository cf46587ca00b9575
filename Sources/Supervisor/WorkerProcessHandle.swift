import Glibc
import VerkShared

/// The supervisor's view of one worker process, in the manner of Puma's `WorkerHandle`: its life-cycle
/// state, its hello deadline, its socket (non-blocking, with an output buffer so the supervisor never
/// blocks on a slow child), its pidfd for instant death detection, and the stop escalation
/// SIGTERM → grace → SIGKILL. The queue loop only asks it questions and gives it orders.
/// Confined to its queue manager's thread.
final class WorkerProcessHandle {
    /// Why a worker process is asked to finish its running jobs and exit.
    enum DrainReason: Equatable {
        /// The node is stopping.
        case shutdown
        /// It is over its memory limit and will be replaced.
        case recycle
        /// Its queue was removed from this node.
        case removal
        /// Its queue was paused: it exits when idle and is started again on resume.
        case pause
    }

    /// starting → ready → draining → stopping → exited. `stopping`: SIGTERM sent, SIGKILL at `killAt`.
    enum State: Equatable {
        case starting
        case ready
        case draining
        case stopping
        case exited(ExitStatus)
    }

    let pid: pid_t
    let socket: Int32
    let pidfd: Int32
    let startedAt: Double
    let helloDeadline: Double
    /// Which jobs its threads are running, in shared memory (see `StartMarks`).
    let startMarks: StartMarks?
    private(set) var state = State.starting
    /// Why it was asked to drain (kept once it is stopping or has exited).
    private(set) var drainReason: DrainReason?
    /// When a stopping process is sent SIGKILL.
    private(set) var killAt: Double?
    private var decoder = FrameDecoder()
    private var output: [UInt8] = []
    private var outputOffset = 0

    init(_ launched: ChildLauncher.Launched, helloTimeout: Double, now: Double = Timestamp.now()) {
        pid = launched.pid
        socket = launched.socket
        pidfd = launched.pidfd
        startMarks = launched.startMarks
        startedAt = now
        helloDeadline = now + helloTimeout
    }

    deinit {
        close(socket)
        if pidfd >= 0 { close(pidfd) }
    }

    // MARK: State

    /// Jobs may be sent: it said hello and is not draining or stopping.
    var acceptsJobs: Bool { state == .ready }

    /// The supervisor asked it to go (drain or stop): its exit is not a crash.
    var wasAskedToStop: Bool { drainReason != nil || state == .stopping }

    /// The hello arrived: true the first time (it was starting).
    func markReady() -> Bool {
        guard state == .starting else { return false }
        state = .ready
        return true
    }

    /// Start no more jobs; unstarted ones come back as `released` frames; exit when idle.
    func beginDrain(_ reason: DrainReason) {
        guard state == .ready || state == .starting else { return }
        state = .draining
        drainReason = reason
        enqueue(.drain)
    }

    /// SIGTERM now (the child flushes its output and exits), SIGKILL after `grace` seconds if still alive.
    func terminate(grace: Double, now: Double = Timestamp.now()) {
        if case .exited = state { return }
        if state != .stopping {
            Glibc.kill(pid, SIGTERM)
            state = .stopping
            killAt = now + grace
        }
    }

    /// The next time this handle needs attention by itself (hello deadline, kill escalation).
    var nextDeadline: Double? {
        switch state {
        case .starting: return helloDeadline
        case .stopping: return killAt
        default: return nil
        }
    }

    /// Sends SIGKILL once the grace of a stopping process has run out. True when it did.
    func escalateIfDue(now: Double = Timestamp.now()) -> Bool {
        guard state == .stopping, let killAt, now >= killAt else { return false }
        Glibc.kill(pid, SIGKILL)
        self.killAt = nil
        return true
    }

    // MARK: Frames

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

    // MARK: Exit

    /// Non-blocking reap; the exit status once the process has ended.
    func reap() -> ExitStatus? {
        if case .exited(let status) = state { return status }
        var raw: Int32 = 0
        guard waitpid(pid, &raw, WNOHANG) == pid else { return nil }
        let status = ExitStatus(waitStatus: raw)
        state = .exited(status)
        return status
    }

    /// SIGKILL now and reap (blocking: after SIGKILL the process is gone within milliseconds). For a
    /// process that cannot be trusted to stop: a hung job past its timeout, a bad frame, no hello.
    @discardableResult
    func kill() -> ExitStatus {
        if let status = reap() { return status }
        Glibc.kill(pid, SIGKILL)
        var raw: Int32 = 0
        while waitpid(pid, &raw, 0) < 0 && errno == EINTR {}
        let status = ExitStatus(waitStatus: raw)
        state = .exited(status)
        return status
    }

    /// After the socket closed or the pidfd fired: wait briefly for the exit status (EOF can precede the
    /// exit by a moment), then kill.
    func awaitExit(timeout: Double = 1) -> ExitStatus {
        let deadline = Timestamp.now() + timeout
        while Timestamp.now() < deadline {
            if let status = reap() { return status }
            var p = pollfd(fd: pidfd, events: Int16(POLLIN), revents: 0)
            if pidfd >= 0 { _ = poll(&p, 1, 10) } else { usleep(1000) }
        }
        return kill()
    }
}
