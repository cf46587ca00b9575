import Logging
import VerkShared

/// Runs one queue on this node, on its own thread with its own Redis connection: the loop that ties the
/// pieces together. Each cycle is one Redis round trip (the ledger's `SettlementBatch` — every ack,
/// failure, requeue, enqueue and stat since the last — plus the next fetch from the `FetchStrategy`) and
/// one socket write of every job fetched to the worker process, which the `ChildSupervisor` starts and
/// replaces. The node's `StopSignal` and the queue's `QueueDirectives` (pause, removal) steer it. Each
/// cycle it tells `NodeHealth` it made progress and where its worker process stands.
final class QueueManager {
    let queue: QueueConfiguration
    let role: QueueRole
    private let onSuspects: () -> Void
    private let configuration: VerkConfiguration
    private let fetch: any FetchStrategy
    private let children: ChildSupervisor
    private let stop: StopSignal
    /// Nil only where no lease is held (never in a running node).
    private let fence: LeaseFence?
    private let directives: QueueDirectives
    private let events: EventBus
    private let link: SettlementLink
    private let progress: NodeHealth.QueueProgress
    private let logger: Logger
    private var window: PrefetchWindow
    private var ledger: JobLedger
    private var publisher: WorkPublisher
    private var phase = Phase.running
    private var queueLooksEmpty = false
    /// When running jobs must be done: while leaving (node stop or queue removal), and while recycling.
    private var drainDeadline: Double?
    private var recycleDeadline: Double?
    private let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: 256 * 1024, alignment: 8)

    enum Phase { case running, pausing, paused }

    /// `onSuspects` is called when a crash sent suspects to quarantine (the supervisor starts a
    /// quarantine manager for the queue).
    init(queue: QueueConfiguration, role: QueueRole = .normal, configuration: VerkConfiguration, retrySchedules: RetrySchedules,
         redis: RedisConnection, stop: StopSignal, fence: LeaseFence?, directives: QueueDirectives, workState: WorkState, events: EventBus,
         restartPolicy: RestartPolicy, progress: NodeHealth.QueueProgress, logger: Logger, onSuspects: @escaping () -> Void = {}) {
        (self.queue, self.role, self.configuration, self.stop, self.directives, self.events) = (queue, role, configuration, stop, directives, events)
        self.onSuspects = onSuspects
        self.fence = fence
        self.progress = progress
        var logger = logger
        logger[metadataKey: "queue"] = "\(queue.name)"
        if role == .quarantine { logger[metadataKey: "role"] = "quarantine" }
        self.logger = logger
        let keys = KeySpace(namespace: configuration.namespace)
        let node = configuration.nodeID
        let (source, inProgress) = (role.source(keys, queue: queue.name, node: node), role.inProgress(keys, queue: queue.name, node: node))
        var recorder = FailureRecorder(keys: keys, policy: configuration.retryPolicy, retrySchedules: retrySchedules,
                                       queue: queue.name, inProgress: inProgress)
        recorder.poisonPill = PoisonPillRule(maxKills: configuration.maxProcessKills)
        link = SettlementLink(redis: redis, target: SettlementBatch.Target(
            keys: keys, queue: queue.name, source: source, inProgress: inProgress, quarantine: role.quarantine(keys, queue: queue.name, node: node),
            recorder: recorder), stop: stop, logger: logger)
        window = role.window(queue, configuration)
        fetch = ReliableFetch(source: source, destination: inProgress, redis: redis.configuration,
                              name: "verk-fetch-\(node)-\(role.workKey(queue.name))", logger: logger)
        children = ChildSupervisor(queue: role.processConfiguration(queue), restartPolicy: restartPolicy, events: events, logger: logger)
        ledger = JobLedger(queue: queue.name, maxJobSize: configuration.maxJobSize, events: events, logger: logger)
        publisher = WorkPublisher(key: role.workKey(queue.name), queue: queue.name, workState: workState)
    }

    deinit { scratch.deallocate() }

    /// Runs until the node stops or the queue is removed, and the queue has drained.
    func run() {
        fetch.start()
        if directives.isPaused && role == .normal { phase = .paused } else if role == .normal { events.emit(.queueRunning(queue: queue.name)) }
        while true {
            let now = Timestamp.now()
            let leaving = isLeaving
            progress.cycled(worker: workerState(leaving: leaving))
            if leaving {
                if continueDrain(now: now) { break }
            } else {
                followPause()
                if phase == .running { children.startIfDue(now: now) }
            }
            roundTrip()
            // Quarantine ends once no suspect is left; it never waits for more.
            if role == .quarantine && queueLooksEmpty && ledger.inFlight.isEmpty && ledger.batch.isEmpty { directives.remove() }
            // An empty queue with room to spare: let the fetch wait in Redis for the next job.
            if role == .normal && freeSlots > 0 && queueLooksEmpty { fetch.waitForJob() } else if stop.isQuiet || phase != .running || !leaseHeld { fetch.stopWaiting() }
            service(timeout: waitTimeout(now: Timestamp.now()))
            enforceLimits(now: Timestamp.now())
            publisher.publish(inFlight: ledger.inFlight, pid: children.process?.pid)
            // The quarantine runs one suspect at a time beside the queue: the gauge is the queue's own.
            if role == .normal { ledger.metrics.show(inFlight: ledger.inFlight.count) }
        }
        ledger.batch.requeue(fetch.finish())
        roundTrip()  // the last acks, requeues and stats
        logger.info("queue stopped")
    }

    private var isLeaving: Bool { stop.isStopping || directives.isRemoved }

    /// This node's lease is known to be its own: it may fetch (`LeaseFence`).
    private var leaseHeld: Bool { fence?.isOpen(at: Timestamp.now()) ?? true }

    /// For readiness: a paused queue has no worker process on purpose, and counts as ready.
    private func workerState(leaving: Bool) -> NodeHealth.Worker {
        if leaving { return .draining }
        if phase != .running { return .paused }
        guard let process = children.process else { return children.isFailing ? .failing : .absent }
        if process.acceptsJobs { return .ready }
        return process.state == .starting ? .starting : .draining
    }

    private var freeSlots: Int {
        guard children.process?.acceptsJobs == true, phase == .running, !stop.isQuiet, leaseHeld else { return 0 }
        return max(0, window.size - ledger.inFlight.count)
    }

    private func waitTimeout(now: Double) -> Double {
        if ledger.batch.hasMoves { return 0 }
        var wake = now + 0.5
        if !ledger.batch.stats.isEmpty { wake = min(wake, link.nextStatsFlush) }
        guard let process = children.process else { return stop.isStopping ? 0.01 : max(0.01, min(wake, children.nextStartAt) - now) }
        if freeSlots > 0 && !queueLooksEmpty { return 0 }
        // Woken by the child's frames, its death, or the fetch; at the latest at a timeout or deadline.
        return max(0, min(wake, ledger.inFlight.nextDeadline ?? .infinity, process.nextDeadline ?? .infinity) - now)
    }

    // MARK: Redis

    /// One pipeline: the settlement batch, then a fetch for each free slot.
    private func roundTrip() {
        if fetch.takeLostConnection() { link.connectionLost() }
        if link.needsReconcile {
            let arrived = fetch.quiesce()
            if !arrived.isEmpty { queueLooksEmpty = false }
            dispatch(arrived)
            link.reconcile(known: ledger.inFlight.entries.values.map(\.payload) + ledger.batch.pendingPayloads)
        }
        // While the fetch waits on an empty queue, pipelined fetches would only find nothing.
        let free = queueLooksEmpty ? 0 : freeSlots
        guard let settled = link.exchange(&ledger.batch, fetch: fetch.fetchItems(count: free), leaving: isLeaving, now: Timestamp.now()) else { return }
        ledger.report(settled)
        if settled.quarantined > 0 {
            logger.warning("a worker process crashed with several jobs running: they are suspects, re-run one at a time in quarantine",
                           metadata: ["suspects": "\(settled.quarantined)"])
            onSuspects()
        }
        for (request, error) in settled.enqueueResults { children.process?.enqueue(.enqueueResult(request: request, error: error)) }
        let fetched = fetch.fetched(settled.fetchReplies)
        if free > 0 {
            queueLooksEmpty = fetched.count < free
            window.fetched(backlog: !queueLooksEmpty)
        }
        dispatch(fetched)
    }

    // MARK: The worker process

    private func dispatch(_ payloads: [[UInt8]]) {
        guard !payloads.isEmpty else { return }
        guard let process = children.process, process.acceptsJobs else { return ledger.batch.requeue(payloads) }
        for payload in payloads {
            if let frame = ledger.send(payload) { process.enqueue(frame) }
        }
        if !process.flush() { processLost() }
    }

    /// Waits up to `timeout` for the worker process's frames or death, or a fetched job, and handles them.
    private func service(timeout: Double) {
        let wakeup = children.wait(timeout: timeout, alsoWatching: [fetch.wakeFD, directives.wakeFD], scratch: scratch)
        if wakeup.watchedReady[1] { directives.acknowledge() }  // the loop's next cycle reads them
        if wakeup.watchedReady[0] {
            let jobs = fetch.takeArrived()
            if !jobs.isEmpty { queueLooksEmpty = false }
            // No process (paused, backing off): a job a wait under way still brought goes back to the queue.
            dispatch(jobs)
        }
        for frame in wakeup.frames {
            switch frame {
            case .done(_, let micros), .failed(_, let micros, _, _, _): window.finished(seconds: Double(micros) / 1_000_000)
            default: break
            }
            if ledger.record(frame) { publisher.changed = true }
        }
        if wakeup.lost { processLost(reason: wakeup.reason) }
    }

    /// The worker process is gone (crash, kill, closed socket, or a drain or stop that completed): the
    /// ledger settles its jobs, and it is replaced unless the queue is leaving.
    private func processLost(reason: String? = nil, timedOut: Set<UInt64> = []) {
        fetch.stopWaiting()
        guard let loss = children.processLost(reason: reason, replace: !isLeaving) else { return }
        let (settlement, running) = ledger.processEnded(loss, timedOut: timedOut, quarantine: role == .quarantine)
        publisher.changed = true
        if loss.wasStopped {
            logger.warning("worker process stopped; its unfinished jobs went back to the queue",
                           metadata: ["pid": "\(loss.pid)", "requeued": "\(settlement.requeue.count)"])
        } else if loss.drainReason != nil, settlement.failures.isEmpty, loss.status == .exited(0) {
            logger.info("worker process drained and exited", metadata: ["pid": "\(loss.pid)"])
        } else {
            logger.error("worker process died", metadata: [
                "pid": "\(loss.pid)", "status": "\(loss.status)", "running": "\(running)", "requeued": "\(settlement.requeue.count)"])
            events.emit(.processCrashed(queue: queue.name, pid: loss.pid, signal: loss.status.signal, exitCode: loss.status.code,
                                        jobsAffected: settlement.failures.count + settlement.suspects.count))
        }
    }

    /// Asks the worker process to drain; one still starting is not worth waiting for when leaving.
    private func beginDrain(_ reason: WorkerProcessHandle.DrainReason) {
        guard let process = children.process else { return }
        if process.state == .starting && (reason == .shutdown || reason == .removal) {
            process.kill()
            return processLost()
        }
        process.beginDrain(reason)
        if !process.flush() { processLost() }
    }

    /// Hard timeouts (threads cannot be cancelled safely, so the process is stopped), the memory limit
    /// (drained and replaced: a recycle, not a crash), and the SIGTERM → SIGKILL escalation.
    private func enforceLimits(now: Double) {
        guard let process = children.process else { return }
        let overdue = ledger.overdue(at: now)
        if !overdue.isEmpty {
            logger.warning("job exceeded its timeout; stopping its worker process", metadata: ["pid": "\(process.pid)", "jobs": "\(overdue.count)"])
            process.kill()
            return processLost(reason: "was stopped because another job in it exceeded its timeout", timedOut: overdue)
        }
        if process.escalateIfDue(now: now) { logger.warning("worker process did not stop after SIGTERM; killed it") }
        if process.drainReason == .recycle, process.state == .draining, let deadline = recycleDeadline, now >= deadline {
            logger.warning("jobs did not finish before the recycle deadline; stopping the worker process", metadata: ["pid": "\(process.pid)"])
            return process.terminate(grace: ChildSupervisor.stopGrace, now: now)
        }
        guard let rssMB = children.memoryOverLimit(configuration.memoryLimitMB(for: queue), now: now) else { return }
        logger.warning("worker process is over its memory limit; draining and replacing it", metadata: [
            "pid": "\(process.pid)", "rss_mb": "\(rssMB)", "limit_mb": "\(configuration.memoryLimitMB(for: queue) ?? 0)"])
        recycleDeadline = now + configuration.shutdownTimeout
        fetch.stopWaiting()
        beginDrain(.recycle)
    }

    // MARK: Pause and leaving

    /// Pausing the queue, or quieting the node (Sidekiq's quiet), drains the worker process: jobs it had
    /// not started go back to the head of the queue, running ones finish, and none starts until resumed.
    private func followPause() {
        switch (directives.isPaused || stop.isQuiet, phase) {
        case (true, .running):
            phase = .pausing
            fetch.stopWaiting()
            logger.info(stop.isQuiet ? "node quiet: no new jobs start; unstarted ones go back to the queue; running jobs finish"
                                     : "queue paused: no new jobs are fetched; running jobs finish", metadata: ["in_flight": "\(ledger.inFlight.count)"])
            events.emit(.queuePausing(queue: queue.name, running: ledger.runningCount))
            beginDrain(.pause)
        case (true, .pausing) where children.process == nil && ledger.inFlight.isEmpty:
            phase = .paused
            events.emit(.queuePaused(queue: queue.name))
        case (false, .pausing), (false, .paused):
            phase = .running
            logger.info("queue resumed")
            events.emit(.queueRunning(queue: queue.name))
        default:
            break
        }
    }

    /// Drain for a node stop or the queue's removal: no new fetches, unstarted jobs handed back, running
    /// jobs given until the shutdown timeout, then the process is stopped and they go back to the queue.
    /// Returns true when the queue is fully drained.
    private func continueDrain(now: Double) -> Bool {
        if drainDeadline == nil {
            fetch.stopWaiting()
            drainDeadline = (stop.requestedAt ?? now) + configuration.shutdownTimeout
            beginDrain(stop.isStopping ? .shutdown : .removal)
            logger.info("draining", metadata: ["in_flight": "\(ledger.inFlight.count)"])
        }
        if let process = children.process, let deadline = drainDeadline, now >= deadline, process.state != .stopping {
            logger.warning("shutdown timeout reached; stopping the worker process, unfinished jobs go back to the queue",
                           metadata: ["unfinished": "\(ledger.inFlight.count)"])
            process.terminate(grace: ChildSupervisor.stopGrace, now: now)
        }
        guard children.process == nil && ledger.inFlight.isEmpty else { return false }
        if ledger.batch.isEmpty { return true }
        roundTrip()
        return ledger.batch.isEmpty || link.errorsInARow > 20
    }
}
