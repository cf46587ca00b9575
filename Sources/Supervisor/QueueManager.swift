import Foundation
import Logging
import VerkShared

/// Runs one queue on this node, on its own thread with its own Redis connection: the loop that ties the
/// pieces together. Each cycle is one Redis round trip (the ledger's `SettlementBatch` — every ack,
/// failure, requeue, enqueue and stat since the last — plus the next fetch from the `FetchStrategy`) and
/// one socket write of every job fetched to the worker process, which the `ChildSupervisor` starts and
/// replaces. The node's `StopSignal` and the queue's `QueueDirectives` (pause, removal) steer it.
final class QueueManager {
    let queue: QueueConfiguration
    private let configuration: VerkConfiguration
    private let redis: RedisConnection
    private let fetch: any FetchStrategy
    private let children: ChildSupervisor
    private let stop: StopSignal
    private let directives: QueueDirectives
    private let events: EventBus
    private let target: SettlementBatch.Target
    private let reconciler: InProgressReconciler
    private let logger: Logger
    private let window: Int
    private var ledger: JobLedger
    private var publisher: WorkPublisher
    private var phase = Phase.running
    private var lastStatsFlush = 0.0
    private var queueLooksEmpty = false
    private var redisErrors = 0
    /// Set after a connection failure: a fetch may have run without its reply reaching us.
    private var needsReconcile = false
    /// When running jobs must be done: while leaving (node stop or queue removal), and while recycling.
    private var drainDeadline: Double?
    private var recycleDeadline: Double?
    private let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: 256 * 1024, alignment: 8)

    enum Phase { case running, pausing, paused }
    static let statsFlushInterval = 0.1

    init(queue: QueueConfiguration, configuration: VerkConfiguration, retrySchedules: RetrySchedules, redis: RedisConnection,
         stop: StopSignal, directives: QueueDirectives, workState: WorkState, events: EventBus, restartPolicy: RestartPolicy, logger: Logger) {
        (self.queue, self.configuration, self.redis, self.stop, self.directives, self.events) = (queue, configuration, redis, stop, directives, events)
        var logger = logger
        logger[metadataKey: "queue"] = "\(queue.name)"
        self.logger = logger
        let keys = KeySpace(namespace: configuration.namespace)
        let inProgress = keys.inProgress(queue: queue.name, node: configuration.nodeID)
        target = SettlementBatch.Target(keys: keys, queue: queue.name, inProgress: inProgress, recorder: FailureRecorder(
            keys: keys, policy: configuration.retryPolicy, retrySchedules: retrySchedules, queue: queue.name, inProgress: inProgress))
        reconciler = InProgressReconciler(keys: keys, queue: queue.name, inProgress: inProgress)
        window = queue.concurrency + configuration.prefetch(for: queue)
        fetch = ReliableFetch(source: keys.queue(queue.name), destination: inProgress, blocking: BlockingFetcher(
            redis: redis.configuration, source: keys.queue(queue.name), destination: inProgress,
            name: "verk-fetch-\(configuration.nodeID)-\(queue.name)", logger: logger))
        children = ChildSupervisor(queue: queue, restartPolicy: restartPolicy, events: events, logger: logger)
        ledger = JobLedger(queue: queue.name, maxJobSize: configuration.maxJobSize, events: events, logger: logger)
        publisher = WorkPublisher(queue: queue.name, workState: workState)
    }

    deinit { scratch.deallocate() }

    /// Runs until the node stops or the queue is removed, and the queue has drained.
    func run() {
        fetch.start()
        if directives.isPaused { phase = .paused } else { events.emit(.queueRunning(queue: queue.name)) }
        while true {
            let now = Timestamp.now()
            if isLeaving {
                if continueDrain(now: now) { break }
            } else {
                followPause()
                if phase == .running { children.startIfDue(now: now) }
            }
            roundTrip()
            // An empty queue with room to spare: let the fetch wait in Redis for the next job.
            if freeSlots > 0 && queueLooksEmpty { fetch.waitForJob() } else if stop.isQuiet || phase != .running { fetch.stopWaiting() }
            service(timeout: waitTimeout(now: Timestamp.now()))
            enforceLimits(now: Timestamp.now())
            publisher.publish(inFlight: ledger.inFlight, pid: children.process?.pid)
        }
        ledger.batch.requeue(fetch.finish())
        roundTrip()  // the last acks, requeues and stats
        logger.info("queue stopped")
    }

    private var isLeaving: Bool { stop.isStopping || directives.isRemoved }

    private var freeSlots: Int {
        guard children.process?.acceptsJobs == true, phase == .running, !stop.isQuiet else { return 0 }
        return max(0, window - ledger.inFlight.count)
    }

    private func waitTimeout(now: Double) -> Double {
        if ledger.batch.hasMoves { return 0 }
        var wake = now + 0.5
        if !ledger.batch.stats.isEmpty { wake = min(wake, lastStatsFlush + Self.statsFlushInterval) }
        guard let process = children.process else { return stop.isStopping ? 0.01 : max(0.01, min(wake, children.nextStartAt) - now) }
        if freeSlots > 0 && !queueLooksEmpty { return 0 }
        // Woken by the child's frames, its death, or the fetch; at the latest at a timeout or deadline.
        return max(0, min(wake, ledger.inFlight.nextDeadline ?? .infinity, process.nextDeadline ?? .infinity) - now)
    }

    // MARK: Redis

    /// One pipeline: the settlement batch, then a fetch for each free slot.
    private func roundTrip() {
        if fetch.takeLostConnection() { needsReconcile = true }
        if needsReconcile { reconcileInProgress() }
        // While the fetch waits on an empty queue, pipelined fetches would only find nothing.
        let free = queueLooksEmpty ? 0 : freeSlots
        let now = Timestamp.now()
        let flushStats = !ledger.batch.stats.isEmpty && (now - lastStatsFlush >= Self.statsFlushInterval || isLeaving)
        guard ledger.batch.hasMoves || flushStats || free > 0 else { return }
        let plan = ledger.batch.plan(to: target, fetch: fetch.fetchCommands(count: free), flushStats: flushStats, now: now)
        let replies: [RedisReply]
        do {
            replies = plan.items.isEmpty ? [] : try redis.pipeline(plan.items)
            redisErrors = 0
        } catch {
            // Nothing is forgotten: the batch keeps its moves, which are idempotent, for the next cycle.
            return redisFailed(error)
        }
        let settled = ledger.batch.settle(plan, replies: replies)
        if flushStats { lastStatsFlush = now }
        ledger.report(settled)
        for (request, error) in settled.enqueueResults { children.process?.enqueue(.enqueueResult(request: request, error: error)) }
        if free > 0 { queueLooksEmpty = settled.fetched.count < free }
        dispatch(settled.fetched)
    }

    private func reconcileInProgress() {
        let arrived = fetch.quiesce()
        if !arrived.isEmpty {
            queueLooksEmpty = false
            dispatch(arrived)
        }
        do {
            let moved = try reconciler.reconcile(redis: redis, known: ledger.inFlight.entries.values.map(\.payload) + ledger.batch.pendingPayloads)
            needsReconcile = false
            if moved > 0 { logger.warning("requeued in-progress jobs whose fetch reply was lost with the connection", metadata: ["count": "\(moved)"]) }
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
        let ms = Int32(max(0, min(timeout, 1)) * 1000)
        guard let process = children.process else {
            // No process (paused, backing off): a job a wait under way still brought goes back to the queue.
            var wake = pollfd(fd: fetch.wakeFD, events: Int16(POLLIN), revents: 0)
            if poll(&wake, 1, ms) > 0 { ledger.batch.requeue(fetch.takeArrived()) }
            return
        }
        var fds = [pollfd(fd: process.socket, events: Int16(POLLIN) | (process.hasPendingOutput ? Int16(POLLOUT) : 0), revents: 0),
                   pollfd(fd: fetch.wakeFD, events: Int16(POLLIN), revents: 0),
                   pollfd(fd: process.pidfd, events: Int16(POLLIN), revents: 0)]  // a negative fd is ignored
        guard poll(&fds, nfds_t(fds.count), ms) >= 0 else { return }
        if fds[1].revents != 0 {
            let jobs = fetch.takeArrived()
            if !jobs.isEmpty { queueLooksEmpty = false }
            dispatch(jobs)
        }
        if process.state == .starting, Timestamp.now() > process.helloDeadline {
            logger.error("worker process did not say hello in time; restarting it", metadata: ["pid": "\(process.pid)"])
            process.kill()
            return processLost(reason: "did not start within \(Int(ChildSupervisor.helloTimeout)) s and was stopped")
        }
        if fds[0].revents & Int16(POLLOUT) != 0, !process.flush() { return processLost() }
        if fds[0].revents != 0 {
            let outcome = process.read(scratch: scratch)
            for frame in outcome.frames {
                if case .hello(let version, _) = frame { _ = children.helloReceived(version: version) }
                else if ledger.record(frame) { publisher.changed = true }
            }
            if let error = outcome.error {
                logger.error("bad frame from worker process; restarting it", metadata: ["pid": "\(process.pid)", "error": "\(error)"])
                process.kill()
                return processLost(reason: "sent an invalid frame (\(error)) and was stopped")
            }
            if outcome.closed { return processLost() }
        }
        if fds[2].revents != 0 { return processLost() }
        if process.hasPendingOutput, !process.flush() { processLost() }
    }

    /// The worker process is gone (crash, kill, closed socket, or a drain or stop that completed): the
    /// ledger settles its jobs, and it is replaced unless the queue is leaving.
    private func processLost(reason: String? = nil, timedOut: Set<UInt64> = []) {
        fetch.stopWaiting()
        guard let loss = children.processLost(reason: reason, replace: !isLeaving) else { return }
        let (settlement, running) = ledger.processEnded(loss, timedOut: timedOut)
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
                                        jobsAffected: settlement.failures.count))
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

    /// Pausing drains the worker process (unstarted jobs back to the queue, running ones finish) and
    /// starts none until resumed.
    private func followPause() {
        switch (directives.isPaused, phase) {
        case (true, .running):
            phase = .pausing
            fetch.stopWaiting()
            logger.info("queue paused: no new jobs are fetched; running jobs finish", metadata: ["in_flight": "\(ledger.inFlight.count)"])
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
        return ledger.batch.isEmpty || redisErrors > 20
    }
}
