import CoreMetrics
import Glibc
import Logging
import VerkShared

/// Starts, watches and replaces one queue's worker process, as an OTP supervisor would: a death is
/// recorded in the `RestartHistory` and the replacement waits out the `RestartPolicy`'s backoff; past its
/// intensity the queue is reported failing; each such restart is counted (`VerkMetric.workerRestarts`).
/// What happens to the dead process's jobs is not decided here (`LostJobs`). Confined to the queue
/// manager's thread.
final class ChildSupervisor {
    private let queue: QueueConfiguration
    private let events: EventBus
    private let logger: Logger
    private(set) var process: WorkerProcessHandle?
    private var history: RestartHistory
    private(set) var nextStartAt = 0.0
    /// When the last worker process died unasked, to report how long its replacement took to be ready.
    private var lastCrashAt: Double?
    private var lastMemoryCheck = 0.0
    private let restarts: Counter

    static let helloTimeout = 10.0
    /// Between SIGTERM and SIGKILL when a worker process is stopped: time to flush its output.
    static let stopGrace = 2.0

    init(queue: QueueConfiguration, restartPolicy: RestartPolicy, events: EventBus, logger: Logger) {
        self.queue = queue
        history = RestartHistory(policy: restartPolicy)
        self.events = events
        self.logger = logger
        restarts = Counter(label: VerkMetric.workerRestarts, dimensions: [("queue", queue.name)])
    }

    var isFailing: Bool { history.isFailing }

    /// Starts a worker process if there is none and its backoff has passed.
    func startIfDue(now: Double = Timestamp.now()) {
        guard process == nil, now >= nextStartAt else { return }
        do {
            let handle = WorkerProcessHandle(try ChildLauncher.launch(queue: queue), helloTimeout: Self.helloTimeout, now: now)
            handle.enqueue(.hello(version: Frame.protocolVersion, pid: getpid()))
            process = handle
            logger.info("worker process started", metadata: ["pid": "\(handle.pid)", "concurrency": "\(queue.concurrency)"])
        } catch {
            logger.error("cannot start worker process", metadata: ["error": "\(error)"])
            scheduleRestart(now: now)
        }
    }

    /// The worker process said hello. True when it just became ready.
    func helloReceived(version: UInt16, now: Double = Timestamp.now()) -> Bool {
        guard let process else { return false }
        guard version == Frame.protocolVersion else {
            logger.error("worker process speaks another protocol version; restarting it", metadata: ["theirs": "\(version)"])
            process.kill()
            return false
        }
        guard process.markReady() else { return false }
        var metadata: Logger.Metadata = ["pid": "\(process.pid)", "startup_ms": "\(Self.ms(now - process.startedAt))"]
        if let crash = lastCrashAt {
            metadata["since_crash_ms"] = "\(Self.ms(now - crash))"
            events.emit(.processRestarted(queue: queue.name, pid: process.pid, timeToReady: now - crash))
        }
        logger.info("worker process ready", metadata: metadata)
        lastCrashAt = nil
        return true
    }

    /// How a worker process ended, for settling its jobs.
    struct Loss {
        let pid: pid_t
        let status: ExitStatus
        /// Set when the supervisor drained or stopped it: its exit is not a crash.
        let drainReason: WorkerProcessHandle.DrainReason?
        let wasStopped: Bool
        /// Why the supervisor killed it, if it did.
        let reason: String?
        /// The jobs its threads were running when it ended, from its shared start marks: some may not have
        /// had their `started` frame read yet.
        var runningAtExit: [UInt64] = []
    }

    /// The process is gone (EOF, pidfd) or was just killed: reaps it and schedules its replacement
    /// unless `replace` is false. `reason` says why the supervisor killed it, when it did.
    func processLost(reason: String? = nil, replace: Bool, now: Double = Timestamp.now()) -> Loss? {
        guard let process else { return nil }
        self.process = nil
        let wasStopped = process.state == .stopping  // read before the reap makes it `exited`
        let loss = Loss(pid: process.pid, status: process.awaitExit(), drainReason: process.drainReason,
                        wasStopped: wasStopped, reason: reason, runningAtExit: process.startMarks?.running() ?? [])
        if loss.drainReason == .recycle {
            nextStartAt = now  // replaced at once: a recycle is not a crash
        } else if loss.drainReason == nil && !loss.wasStopped && replace {
            lastCrashAt = now
            scheduleRestart(now: now)
        }
        return loss
    }

    /// What one wait on the worker process brought.
    struct Wakeup {
        /// Which of the `alsoWatching` fds became readable.
        var watchedReady: [Bool] = []
        /// Job frames, in order (hellos are handled here).
        var frames: [Frame] = []
        /// The process is gone or was killed: settle its jobs with `processLost(reason:)`.
        var lost = false
        var reason: String?
    }

    /// Waits up to `timeout` for the worker process's frames, its death, or one of `alsoWatching`;
    /// flushes what is queued for it; kills it when it missed its hello deadline or sent a malformed frame.
    func wait(timeout: Double, alsoWatching watched: [Int32], scratch: UnsafeMutableRawBufferPointer) -> Wakeup {
        var result = Wakeup(watchedReady: Array(repeating: false, count: watched.count))
        let ms = Int32(max(0, min(timeout, 1)) * 1000)
        // A negative fd (no pidfd, no process) is ignored by poll.
        var fds = [pollfd(fd: process?.socket ?? -1, events: Int16(POLLIN) | (process?.hasPendingOutput == true ? Int16(POLLOUT) : 0), revents: 0),
                   pollfd(fd: process?.pidfd ?? -1, events: Int16(POLLIN), revents: 0)]
        fds += watched.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
        guard poll(&fds, nfds_t(fds.count), ms) >= 0 else { return result }
        for i in watched.indices { result.watchedReady[i] = fds[2 + i].revents != 0 }
        guard let process else { return result }
        if process.state == .starting, Timestamp.now() > process.helloDeadline {
            logger.error("worker process did not say hello in time; restarting it", metadata: ["pid": "\(process.pid)"])
            process.kill()
            return lost(result, reason: "did not start within \(Int(Self.helloTimeout)) s and was stopped")
        }
        if fds[0].revents & Int16(POLLOUT) != 0, !process.flush() { return lost(result) }
        if fds[0].revents != 0 {
            let outcome = process.read(scratch: scratch)
            for frame in outcome.frames {
                if case .hello(let version, _) = frame { _ = helloReceived(version: version) } else { result.frames.append(frame) }
            }
            if let error = outcome.error {
                logger.error("bad frame from worker process; restarting it", metadata: ["pid": "\(process.pid)", "error": "\(error)"])
                process.kill()
                return lost(result, reason: "sent an invalid frame (\(error)) and was stopped")
            }
            if outcome.closed { return lost(result) }
        }
        if fds[1].revents != 0 || (process.hasPendingOutput && !process.flush()) { return lost(result) }
        return result
    }

    private func lost(_ wakeup: Wakeup, reason: String? = nil) -> Wakeup {
        var wakeup = wakeup
        wakeup.lost = true
        wakeup.reason = reason
        return wakeup
    }

    /// Resident memory in MB when the ready worker process is over `limit` (checked at most once a second).
    func memoryOverLimit(_ limit: Int?, now: Double = Timestamp.now()) -> Int? {
        guard let limit, let process, process.acceptsJobs, now - lastMemoryCheck >= 1 else { return nil }
        lastMemoryCheck = now
        let rssMB = ProcessMemory.residentKB(pid: process.pid) / 1024
        return rssMB > limit ? rssMB : nil
    }

    private func scheduleRestart(now: Double) {
        restarts.increment()
        let step = history.recordDeath(at: now)
        nextStartAt = now + step.delay
        if step.becameFailing {
            logger.critical("queue is failing: its worker process keeps dying; retrying slowly", metadata: [
                "restarts": "\(history.recentRestarts.count)", "period": "\(history.policy.period)s", "retry_every": "\(step.delay)s",
            ])
            events.emit(.queueFailing(queue: queue.name, restarts: history.recentRestarts.count))
        } else if step.delay > 0 {
            logger.warning("restarting worker process after backoff", metadata: ["delay": "\(step.delay)s"])
        }
    }

    private static func ms(_ seconds: Double) -> String { TextFormat.fixed(seconds * 1000, decimals: 1) }
}
