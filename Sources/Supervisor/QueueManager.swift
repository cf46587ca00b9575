import Foundation
import Logging
import VerkShared

/// Runs one queue on this node, on its own thread with its own Redis connection: starts the queue's
/// worker process, fetches jobs reliably (an atomic LMOVE from `queue:NAME` into this node's in-progress
/// list), dispatches them within a window, and settles results. Each cycle is one Redis round trip
/// carrying every ack, failure, requeue, enqueue and stat since the last, plus the next fetch; and one
/// socket write carrying every job fetched.
final class QueueManager {
    let queue: QueueConfiguration
    private let configuration: VerkConfiguration
    private let keys: KeySpace
    private let inProgress: String
    private let redis: RedisConnection
    private let fetcher: BlockingFetcher
    private let recorder: FailureRecorder
    private let restartPolicy: RestartPolicy
    private let stop: StopSignal
    private let workState: WorkState
    private var lastPublish = 0.0
    private var workChanged = false
    private var lastPublishedPID: pid_t?
    private var logger: Logger
    private let window: Int

    private var child: WorkerChild?
    private var inFlight = InFlightJobs()
    private var acks: [[UInt8]] = []
    private var failures: [(payload: [UInt8], failure: JobFailure)] = []
    private var requeues: [[UInt8]] = []
    private var enqueues: [(request: UInt64, at: Double, payload: [UInt8])] = []
    private var stats = StatsBuffer()
    private var lastStatsFlush = 0.0
    private var restarts: [Double] = []
    private var nextStartAt = 0.0
    private var failing = false
    /// When the last worker process died, to report how long its replacement took to be ready.
    private var lastCrashAt: Double?
    private var lastMemoryCheck = 0.0
    /// While recycling: when running jobs must have finished (then they go back to the queue).
    private var recycleDeadline: Double?
    private var queueLooksEmpty = false
    private var redisErrors = 0
    /// Set after a connection failure: a fetch may have run without its reply reaching us.
    private var needsReconcile = false
    private var drainDeadline: Double?
    private let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: 256 * 1024, alignment: 8)

    static let statsFlushInterval = 0.1
    static let helloTimeout = 10.0

    init(queue: QueueConfiguration, configuration: VerkConfiguration, retrySchedules: RetrySchedules, redis: RedisConnection,
         stop: StopSignal, workState: WorkState, restartPolicy: RestartPolicy, logger: Logger) {
        self.workState = workState
        self.queue = queue
        self.configuration = configuration
        keys = KeySpace(namespace: configuration.namespace)
        inProgress = keys.inProgress(queue: queue.name, node: configuration.nodeID)
        self.redis = redis
        recorder = FailureRecorder(keys: keys, policy: configuration.retryPolicy, retrySchedules: retrySchedules, queue: queue.name, inProgress: inProgress)
        self.restartPolicy = restartPolicy
        self.stop = stop
        self.logger = logger
        self.logger[metadataKey: "queue"] = "\(queue.name)"
        window = queue.concurrency + configuration.prefetch(for: queue)
        fetcher = BlockingFetcher(redis: redis.configuration, source: keys.queue(queue.name), destination: inProgress,
                                  name: "verk-fetch-\(configuration.nodeID)-\(queue.name)", logger: logger)
    }

    deinit { scratch.deallocate() }

    // MARK: Main loop

    /// Runs until a stop has been requested and this queue is drained.
    func run() {
        fetcher.start()
        while true {
            let stopping = stop.isStopping
            if stopping, beginOrContinueDrain() { break }
            if !stopping, child == nil, Timestamp.now() >= nextStartAt { startChild() }
            roundTrip()
            // An empty queue with room to spare: let the fetcher wait in Redis for the next job.
            if freeSlots > 0 && queueLooksEmpty { fetcher.request() } else if stop.isQuiet { fetcher.cancel() }
            serviceChild(timeout: waitTimeout())
            enforceTimeouts()
            enforceMemoryLimit()
            publishWork()
        }
        requeues += fetcher.finish()
        roundTrip()  // the last acks, requeues and stats
        logger.info("queue stopped")
    }

    private var hasPendingRedisWork: Bool {
        !acks.isEmpty || !failures.isEmpty || !requeues.isEmpty || !enqueues.isEmpty || !stats.isEmpty
    }

    private var freeSlots: Int {
        guard let child, child.state == .ready, !stop.isQuiet else { return 0 }
        return max(0, window - inFlight.count)
    }

    private func waitTimeout() -> Double {
        if hasPendingRedisWork { return 0 }
        if child == nil { return stop.isStopping ? 0.01 : max(0.01, min(0.5, nextStartAt - Timestamp.now())) }
        if freeSlots > 0 && !queueLooksEmpty { return 0 }
        // Woken by the child's frames, its death, or the fetcher; at the latest when a job's timeout expires.
        return max(0, min(0.5, (inFlight.nextDeadline ?? .infinity) - Timestamp.now()))
    }

    /// A worker process over its memory limit is drained (unstarted jobs come back, running ones finish,
    /// within the shutdown timeout) and replaced: a recycle, not a crash. Checked once a second.
    private func enforceMemoryLimit() {
        guard let child, let limit = configuration.memoryLimitMB(for: queue) else { return }
        let now = Timestamp.now()
        if child.state == .recycling, let deadline = recycleDeadline, now >= deadline {
            logger.warning("jobs did not finish before the recycle deadline; putting them back in the queue",
                           metadata: ["pid": "\(child.pid)", "unfinished": "\(inFlight.count)"])
            self.child = nil
            child.kill()
            let taken = inFlight.takeAll()
            requeues += taken.running.map(\.entry.payload) + taken.notStarted
            workChanged = true
            nextStartAt = now
            return
        }
        guard child.state == .ready, now - lastMemoryCheck >= 1 else { return }
        lastMemoryCheck = now
        let rssMB = ProcessMemory.residentKB(pid: child.pid) / 1024
        guard rssMB > limit else { return }
        logger.warning("worker process is over its memory limit; draining and replacing it",
                       metadata: ["pid": "\(child.pid)", "rss_mb": "\(rssMB)", "limit_mb": "\(limit)"])
        child.state = .recycling
        recycleDeadline = now + configuration.shutdownTimeout
        fetcher.cancel()
        child.enqueue(.drain)
        if !child.flush() { childLost() }
    }

    /// A job past its hard timeout: threads cannot be cancelled safely, so its worker process is stopped.
    private func enforceTimeouts() {
        guard let child, inFlight.nextDeadline.map({ $0 <= Timestamp.now() }) == true else { return }
        let overdue = Set(inFlight.overdue(at: Timestamp.now()))
        logger.warning("job exceeded its timeout; stopping its worker process", metadata: ["pid": "\(child.pid)", "jobs": "\(overdue.count)"])
        child.kill()
        childLost(reason: "was stopped because another job in it exceeded its timeout", timedOut: overdue)
    }

    // MARK: Redis

    /// One pipeline: acks, failures, requeues, enqueues, stats, then LMOVE for each free slot.
    private func roundTrip() {
        if fetcher.takeLostConnection() { needsReconcile = true }
        if needsReconcile { reconcileInProgress() }
        // While the fetcher waits on an empty queue, pipelined fetches would only find nothing.
        let free = queueLooksEmpty ? 0 : freeSlots
        guard hasPendingRedisWork || free > 0 else { return }
        let now = Timestamp.now()
        var items: [PipelineItem] = []
        for payload in acks { items.append(.command(RedisCommand("LREM", inProgress, -1, payload))) }
        var failureDestinations: [RetryPolicy.Destination] = []
        for f in failures {
            let (call, destination) = recorder.scriptCall(payload: f.payload, failure: f.failure, now: now)
            items.append(.script(call))
            failureDestinations.append(destination)
        }
        if !requeues.isEmpty {
            items.append(.script(ScriptCall(Scripts.requeueJobs, keys: [inProgress, keys.queue(queue.name), keys.queues],
                                            args: [queue.name] + requeues)))
        }
        var enqueueRanges: [(request: UInt64, range: Range<Int>)] = []
        var enqueueFailures: [(UInt64, String)] = []
        for e in enqueues {
            guard var job = try? Job(parsing: e.payload) else {
                enqueueFailures.append((e.request, "the job is not a valid Sidekiq payload"))
                continue
            }
            JobPush.normalize(&job, now: now)
            let commands = JobPush(keys: keys).commands(for: [(job, e.at > 0 ? e.at : nil)], now: now)
            enqueueRanges.append((e.request, items.count..<items.count + commands.count))
            items += commands.map(PipelineItem.command)
        }
        let flushStats = !stats.isEmpty && (now - lastStatsFlush >= Self.statsFlushInterval || stop.isStopping)
        var statsCopy = stats
        if flushStats { items += statsCopy.drain(keys: keys, queue: queue.name, now: now).map(PipelineItem.command) }
        let fetchStart = items.count
        for _ in 0..<free { items.append(.command(RedisCommand("LMOVE", keys.queue(queue.name), inProgress, "RIGHT", "LEFT"))) }
        guard !items.isEmpty else { return }

        let replies: [RedisReply]
        do {
            replies = try redis.pipeline(items)
            redisErrors = 0
        } catch {
            // Nothing is forgotten: acks, failures and requeues are idempotent and retried next cycle.
            redisFailed(error)
            return
        }
        for (i, f) in failures.enumerated() where replies[acks.count + i].errorMessage == nil {
            logFailure(f.failure, destination: failureDestinations[i])
        }
        acks.removeAll(keepingCapacity: true)
        failures.removeAll(keepingCapacity: true)
        requeues.removeAll(keepingCapacity: true)
        for (request, range) in enqueueRanges {
            let error = replies[range].compactMap(\.errorMessage).first
            child?.enqueue(.enqueueResult(request: request, error: error))
        }
        for (request, reason) in enqueueFailures { child?.enqueue(.enqueueResult(request: request, error: reason)) }
        enqueues.removeAll(keepingCapacity: true)
        if flushStats {
            stats = statsCopy
            lastStatsFlush = now
        }
        for reply in replies[..<fetchStart] {
            if let message = reply.errorMessage { logger.error("Redis refused a command", metadata: ["error": "\(message)"]) }
        }
        let fetched = replies[fetchStart...].compactMap(\.bytes)
        if free > 0 { queueLooksEmpty = fetched.count < free }
        dispatch(fetched)
    }

    /// After a lost connection, a job may sit in our in-progress list with its (B)LMOVE reply lost. Only this
    /// manager and its fetcher write that list; with the fetcher quiesced, whatever is there and not in
    /// flight or pending here goes back to the queue (exact bytes, counted one for one).
    private func reconcileInProgress() {
        let handedOver = fetcher.quiesce()
        if !handedOver.isEmpty {
            queueLooksEmpty = false
            dispatch(handedOver)
        }
        do {
            let listed = (try redis.command("LRANGE", inProgress, 0, -1).array ?? []).compactMap(\.bytes)
            var known: [[UInt8]: Int] = [:]
            for e in inFlight.entries.values { known[e.payload, default: 0] += 1 }
            for p in acks + requeues + failures.map(\.payload) { known[p, default: 0] += 1 }
            var orphans: [[UInt8]] = []
            for payload in listed {
                if let n = known[payload], n > 0 { known[payload] = n - 1 } else { orphans.append(payload) }
            }
            needsReconcile = false
            guard !orphans.isEmpty else { return }
            let moved = try redis.eval(ScriptCall(Scripts.requeueJobs, keys: [inProgress, keys.queue(queue.name), keys.queues],
                                                  args: [queue.name] + orphans))
            logger.warning("requeued in-progress jobs whose fetch reply was lost with the connection", metadata: ["count": "\(moved.int ?? 0)"])
        } catch {
            redisFailed(error)
        }
    }

    private func redisFailed(_ error: Error) {
        if (error as? RedisError)?.isConnectionFailure == true { needsReconcile = true }
        redisErrors += 1
        if redisErrors == 1 || redisErrors % 50 == 0 {
            logger.error("Redis unavailable; jobs stay where they are until it is back", metadata: ["error": "\(error)"])
        }
        // Back off so an outage does not become a busy loop (the connection also backs off as it reconnects).
        _ = stop.wait(min(1.0, 0.05 * Double(redisErrors)))
    }

    private func dispatch(_ payloads: [[UInt8]]) {
        guard !payloads.isEmpty, let child else {
            requeues += payloads
            return
        }
        for payload in payloads {
            // A payload no frame can carry would make the child reject it and be requeued forever: it can
            // never run, so it goes to the dead set with the reason.
            guard payload.count <= configuration.maxJobSize else {
                failures.append((payload, JobFailure(
                    errorClass: VerkErrorClass.payloadTooLarge.rawValue,
                    message: "job payload of \(payload.count) bytes exceeds max_job_size (\(configuration.maxJobSize) bytes); pass a reference (a key, a URL) instead of the data",
                    retryable: false)))
                stats.record(failed: true)
                continue
            }
            child.enqueue(.run(seq: inFlight.add(payload), payload: payload))
        }
        if !child.flush() { childLost() }
    }

    // MARK: The child

    private func startChild() {
        do {
            let launched = try ChildLauncher.launch(queue: queue)
            let c = WorkerChild(launched)
            c.enqueue(.hello(version: Frame.protocolVersion, pid: getpid()))
            child = c
            logger.info("worker process started", metadata: ["pid": "\(c.pid)", "concurrency": "\(queue.concurrency)"])
        } catch {
            logger.error("cannot start worker process", metadata: ["error": "\(error)"])
            scheduleRestart()
        }
    }

    /// Waits up to `timeout` for the child's frames or death, and handles them.
    private func serviceChild(timeout: Double) {
        guard let child else {
            if timeout > 0 { _ = stop.wait(timeout) }
            return
        }
        var fds = [pollfd(fd: child.socket, events: Int16(POLLIN) | (child.hasPendingOutput ? Int16(POLLOUT) : 0), revents: 0),
                   pollfd(fd: fetcher.wakeFD, events: Int16(POLLIN), revents: 0)]
        if child.pidfd >= 0 { fds.append(pollfd(fd: child.pidfd, events: Int16(POLLIN), revents: 0)) }
        let ms = Int32(max(0, min(timeout, 1)) * 1000)
        let n = poll(&fds, nfds_t(fds.count), ms)
        if n < 0 { return }
        if fds[1].revents != 0 {
            let jobs = fetcher.take()
            if !jobs.isEmpty {
                queueLooksEmpty = false
                dispatch(jobs)
            }
        }
        if child.state == .starting, Timestamp.now() - child.startedAt > Self.helloTimeout {
            logger.error("worker process did not say hello in time; restarting it", metadata: ["pid": "\(child.pid)"])
            child.kill()
            childLost(reason: "did not start within \(Int(Self.helloTimeout)) s and was stopped")
            return
        }
        if fds[0].revents & Int16(POLLOUT) != 0, !child.flush() { childLost(); return }
        if fds[0].revents != 0 {
            let outcome = child.read(scratch: scratch)
            for frame in outcome.frames { handle(frame, from: child) }
            if let error = outcome.error {
                logger.error("bad frame from worker process; restarting it", metadata: ["pid": "\(child.pid)", "error": "\(error)"])
                child.kill()
                childLost(reason: "sent an invalid frame (\(error)) and was stopped")
                return
            }
            if outcome.closed { childLost(); return }
        }
        if fds.count > 2, fds[2].revents != 0 { childLost(); return }
        if child.hasPendingOutput, !child.flush() { childLost() }
    }

    private func handle(_ frame: Frame, from child: WorkerChild) {
        switch frame {
        case .hello(let version, _):
            guard version == Frame.protocolVersion else {
                logger.error("worker process speaks another protocol version; restarting it", metadata: ["theirs": "\(version)"])
                child.kill()
                return
            }
            if child.state == .starting {
                child.state = .ready
                let now = Timestamp.now()
                var metadata: Logger.Metadata = ["pid": "\(child.pid)", "startup_ms": "\(String(format: "%.1f", (now - child.startedAt) * 1000))"]
                if let crash = lastCrashAt { metadata["since_crash_ms"] = "\(String(format: "%.1f", (now - crash) * 1000))" }
                logger.info("worker process ready", metadata: metadata)
                lastCrashAt = nil
            }
        case .started(let seq, let timeout):
            inFlight.markStarted(seq, at: Timestamp.now(), timeout: timeout)
            workChanged = true
        case .done(let seq, _):
            guard let entry = inFlight.remove(seq) else { return }
            acks.append(entry.payload)
            stats.record(failed: false)
            workChanged = true
        case .failed(let seq, _, let errorClass, let message, let backtrace):
            guard let entry = inFlight.remove(seq) else { return }
            failures.append((entry.payload, JobFailure(errorClass: errorClass, message: message, backtrace: backtrace)))
            stats.record(failed: true)
            workChanged = true
        case .released(let seq):
            guard let entry = inFlight.remove(seq) else { return }
            requeues.append(entry.payload)
        case .enqueue(let request, let at, let payload):
            enqueues.append((request, at, payload))
        case .run, .enqueueResult, .drain:
            logger.error("unexpected frame from worker process", metadata: ["kind": "\(frame.kind)"])
        }
    }

    /// The child is gone (crash, kill, closed socket). Jobs it was running fail as a crash; jobs it had not
    /// started go back to the queue; a restart is scheduled unless the node is stopping. `reason` says why
    /// the supervisor stopped it, when it did.
    private func childLost(reason: String? = nil, timedOut: Set<UInt64> = []) {
        guard let child else { return }
        self.child = nil
        fetcher.cancel()
        let status = child.awaitExit()
        let taken = inFlight.takeAll()
        workChanged = true
        requeues += taken.notStarted
        if child.state == .draining || child.state == .recycling, taken.running.isEmpty, status == .exited(0) {
            logger.info("worker process drained and exited", metadata: ["pid": "\(child.pid)"])
            if child.state == .recycling { nextStartAt = Timestamp.now() }  // replace it at once
            return
        }
        let message = "worker process for queue '\(queue.name)' (pid \(child.pid)) \(reason ?? status.description) while running this job"
        for (seq, entry) in taken.running {
            if timedOut.contains(seq) {
                failures.append((entry.payload, JobFailure(errorClass: VerkErrorClass.timeout.rawValue, message:
                    "job exceeded its \(entry.timeout) s timeout; its worker process (pid \(child.pid)) was stopped")))
            } else {
                failures.append((entry.payload, JobFailure(errorClass: VerkErrorClass.processCrashed.rawValue, message: message)))
            }
            stats.record(failed: true)
        }
        logger.error("worker process died", metadata: [
            "pid": "\(child.pid)", "status": "\(status)", "running": "\(taken.running.count)", "requeued": "\(taken.notStarted.count)",
        ])
        if !stop.isStopping {
            lastCrashAt = Timestamp.now()
            scheduleRestart()
        }
    }

    private func scheduleRestart() {
        let now = Timestamp.now()
        let decision = restartPolicy.decide(recentRestarts: restarts, now: now)
        restarts = restarts.filter { now - $0 < restartPolicy.period } + [now]
        nextStartAt = now + decision.delay
        if decision.failing && !failing {
            logger.critical("queue is failing: its worker process keeps dying; retrying slowly",
                            metadata: ["restarts": "\(restarts.count)", "period": "\(restartPolicy.period)s", "retry_every": "\(decision.delay)s"])
        } else if decision.delay > 0 {
            logger.warning("restarting worker process after backoff", metadata: ["delay": "\(decision.delay)s"])
        }
        failing = decision.failing
    }

    // MARK: Shutdown

    /// Drain: no new fetches, unstarted jobs handed back, running jobs given until the shutdown timeout.
    /// Returns true when the queue is fully drained.
    private func beginOrContinueDrain() -> Bool {
        let now = Timestamp.now()
        if drainDeadline == nil {
            fetcher.cancel()
            drainDeadline = (stop.requestedAt ?? now) + configuration.shutdownTimeout
            if let child, child.state != .draining {
                if child.state == .starting {
                    child.kill()
                    childLost()
                } else {
                    child.state = .draining
                    child.enqueue(.drain)
                    if !child.flush() { childLost() }
                }
            }
            logger.info("draining", metadata: ["in_flight": "\(inFlight.count)"])
        }
        if child == nil && !hasPendingRedisWork && inFlight.isEmpty { return true }
        if let child, let deadline = drainDeadline, now >= deadline {
            logger.warning("shutdown timeout reached; putting unfinished jobs back in the queue",
                           metadata: ["unfinished": "\(inFlight.count)"])
            self.child = nil
            child.kill()
            let taken = inFlight.takeAll()
            requeues += taken.running.map(\.entry.payload) + taken.notStarted
        }
        if child == nil && inFlight.isEmpty {
            roundTrip()
            return !hasPendingRedisWork || redisErrors > 20
        }
        return false
    }

    /// Tells the heartbeat what runs now, at most every 100 ms and only when it changed.
    private func publishWork() {
        let now = Timestamp.now()
        guard workChanged || child?.pid != lastPublishedPID, now - lastPublish >= 0.1 else { return }
        var snapshot = WorkState.QueueSnapshot(workerPID: child?.pid)
        for (seq, entry) in inFlight.entries {
            if let started = entry.startedAt { snapshot.running[seq] = WorkState.Running(payload: entry.payload, startedAt: started) }
        }
        workState.publish(queue: queue.name, snapshot)
        lastPublish = now
        lastPublishedPID = child?.pid
        workChanged = false
    }

    private func logFailure(_ failure: JobFailure, destination: RetryPolicy.Destination) {
        let where_: String
        switch destination {
        case .retry(let at): where_ = "retry in \(Int((at - Timestamp.now()).rounded()))s"
        case .dead: where_ = "dead"
        case .discard: where_ = "discarded (retry: false)"
        }
        logger.warning("job failed", metadata: ["error_class": "\(failure.errorClass)", "error": "\(failure.message)", "next": "\(where_)"])
    }
}
