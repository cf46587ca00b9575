import Dispatch
import Glibc
import Logging
import Prometheus
import Synchronization
import VerkShared

/// The supervisor role: owns every Redis connection, runs one `QueueManager` thread (and worker process)
/// per queue, the `ScheduleManager`, the `Heartbeat` and the `ControlWatcher`, and turns SIGTERM/SIGINT
/// into a graceful drain. The queues it runs are its configuration plus what it was told at runtime
/// (`addQueue`, `removeQueue`, `pause`, `resume`, or `verk queue …`), kept in Redis. Each queue loop and
/// the heartbeat report their progress to `NodeHealth`; jobs, worker processes, Redis and takeovers are
/// counted through swift-metrics (`VerkMetric`). With `http_port` set it serves `/healthz` and `/readyz`
/// (`HealthChecks`) and `/metrics` (swift-prometheus, bootstrapped here unless the app bootstrapped metrics).
///
/// `@unchecked Sendable`: the runtime API may be called from any thread; `queues` is only touched under
/// `lock`, the API connection only under its own lock, and the rest is immutable after `init`.
public final class Supervisor: @unchecked Sendable {
    public let configuration: VerkConfiguration
    package let retrySchedules: RetrySchedules
    public let stopSignal = StopSignal()
    /// Job, queue and process events: `events.onEvent { … }` or `for await e in events.events()`.
    public let events = EventBus()
    private let logger: Logger
    var restartPolicy = RestartPolicy()
    private let keys: KeySpace
    private let workState = WorkState()
    private let group = DispatchGroup()
    private let lock = ThreadLock()
    private var queues: [String: RunningQueue] = [:]
    /// Quarantine managers by queue name; `true` when suspects arrived while it was ending (start another).
    private var quarantines: [String: (directives: QueueDirectives, again: Bool)] = [:]
    private var initialQueuesStarted = false
    private let wakeWatcher = DispatchSemaphore(value: 0)
    private let apiConnection: LazyConnection
    private let leaseLost = Atomic<Bool>(false)
    /// Opened when the lease is taken; the heartbeat moves it, the queue managers obey it.
    private let fence: LeaseFence
    private let health: NodeHealth

    /// A queue manager's thread and what it was told.
    private struct RunningQueue {
        let configuration: QueueConfiguration
        let directives: QueueDirectives
    }

    package init(configuration: VerkConfiguration, retrySchedules: RetrySchedules = RetrySchedules(), logger: Logger) {
        self.configuration = configuration
        fence = LeaseFence(ttl: configuration.leaseTTL)
        self.retrySchedules = retrySchedules
        self.logger = logger
        keys = KeySpace(namespace: configuration.namespace)
        apiConnection = LazyConnection(url: configuration.redisURL)
        health = NodeHealth(stop: stopSignal)
        // Here, not in `run`: every thread started from now on (an event handler's from `onStart` too)
        // inherits the blocked stop signals, so SIGTERM reaches only the sigwait thread and means a drain.
        // Children get a clean mask from posix_spawn. A write to a dead child or a dead Redis must be an
        // error (EPIPE), not death.
        var signals = Self.stopSignals
        pthread_sigmask(SIG_BLOCK, &signals, nil)
        // Quiet means no job starts from now on: wake every queue loop rather than wait for its timeout.
        stopSignal.onQuiet { [weak self] in self?.nudgeQueues() }
        signal(SIGPIPE, SIG_IGN)
    }

    private static var stopSignals: sigset_t {
        var signals = sigset_t()
        sigemptyset(&signals)
        for s in [SIGTERM, SIGINT, SIGTSTP] { sigaddset(&signals, s) }
        return signals
    }

    /// Runs until SIGTERM/SIGINT (or `stopSignal.stop()`), drains, and returns the process exit code.
    public func run() -> Int32 {

        let redisConfig: RedisConfiguration
        do {
            try configuration.validate()
            redisConfig = try RedisConfiguration(url: configuration.redisURL)
        } catch {
            logger.critical("invalid configuration: \(error)")
            return 78
        }
        startSignalWaiter(Self.stopSignals)
        // Before any metric is made: one made earlier would stay bound to the no-op backend.
        let registry = configuration.httpPort == nil ? nil : PrometheusExport.bootstrap()
        if PrometheusExport.isRecording { for name in VerkMetric.nodeCounters { VerkMetric.count(name, by: 0) } }
        let node = configuration.nodeID
        let lease = NodeLease(keys: keys, node: node, ttl: configuration.leaseTTL)
        let main: RedisConnection
        let watcher: ControlWatcher
        let heartbeat: Heartbeat
        let schedule: ScheduleManager
        do {
            // These connections are made (and AUTH checked) before anything starts, so a bad URL fails fast.
            main = try RedisConnection(configuration: redisConfig, name: "verk-\(node)-schedule", logger: logger)
            // One live node per id: nothing is recovered or fetched before this node holds the id's lease.
            switch try acquire(lease, main) {
            case .acquired: fence.acquired()
            case .stopped: return 0
            case .held(let holder):
                logger.critical("node id '\(node)' is in use by a live node (\(holder)): its lease was renewed for \(Int(3 * lease.ttl)) s. Two nodes must not share an id: give each its own VERK_NODE_ID (a StatefulSet's pod name)")
                return 1
            }
            watcher = ControlWatcher(redis: try RedisConnection(configuration: redisConfig, name: "verk-\(node)-control", logger: logger),
                                     keys: keys, nodeID: node, interval: min(1, configuration.pollInterval), stop: stopSignal, logger: logger)
            heartbeat = Heartbeat(redis: try RedisConnection(configuration: redisConfig, name: "verk-\(node)-heartbeat", logger: logger),
                                  configuration: configuration, stop: stopSignal, workState: workState, lease: lease, fence: fence, events: events,
                                  health: health, gauges: PrometheusExport.isRecording ? QueueGauges(keys: keys) : nil,
                                  logger: logger) { [self] in
                leaseLost.store(true, ordering: .relaxed)
                stopSignal.stop()
            }
            let told = watcher.read() ?? (paused: [], overrides: QueueOverrides())
            try NodeRecovery(redis: main, keys: keys, nodeID: node, logger: logger)
                .recover(queues: told.overrides.apply(to: configuration.queues).map(\.name))
            schedule = ScheduleManager(redis: main, configuration: configuration, stop: stopSignal, logger: logger)
            apply(paused: told.paused, overrides: told.overrides, redis: redisConfig)
        } catch {
            logger.critical("cannot start: \(error)")
            return 1
        }
        logger.info("supervisor started", metadata: [
            "node_id": "\(node)", "pid": "\(getpid())", "redis": "\(redisConfig)",
            "queues": "\(workState.servedQueues.map { "\($0.name):\($0.concurrency)" }.joined(separator: ","))",
        ])

        let finished = StopSignal()
        let heartbeatGroup = DispatchGroup()
        let beating = ThreadHandoff(value: heartbeat)
        startThread("verk-heartbeat", heartbeatGroup) { beating.value.run(until: finished) }
        let scheduling = ThreadHandoff(value: schedule)
        startThread("verk-schedule", group) { scheduling.value.run() }
        let watching = ThreadHandoff(value: watcher)
        startThread("verk-control", DispatchGroup()) { [self] in
            watching.value.run(wake: wakeWatcher) { paused, overrides in apply(paused: paused, overrides: overrides, redis: redisConfig) }
        }
        let server = configuration.httpPort.flatMap { serveHealth(port: $0, metrics: registry) }
        let httpFailed = configuration.httpPort != nil && server == nil
        while !stopSignal.wait(3600) {}
        wakeWatcher.signal()
        group.wait()
        finished.stop()
        heartbeatGroup.wait()
        server?.shutdown()
        // Every thread that used `main` has ended: it is this thread's again.
        if !leaseLost.load(ordering: .relaxed) { leave(main, lease: lease) }
        events.finish()
        logger.info("supervisor stopped")
        return leaseLost.load(ordering: .relaxed) || httpFailed ? 1 : 0
    }

    /// Starts the HTTP server on every interface (a pod's probes and Prometheus reach it on the pod's IP).
    /// A port it cannot bind stops the node, which exits 1: probes that can never answer would restart it anyway.
    private func serveHealth(port: Int, metrics: PrometheusCollectorRegistry?) -> HealthServer? {
        let endpoints = HealthEndpoints(health: health, checks: HealthChecks(heartbeatInterval: configuration.heartbeatInterval),
                                        metrics: metrics)
        do {
            let server = try HealthServer.start(host: "0.0.0.0", port: port, endpoints: endpoints)
            logger.info("serving /healthz, /readyz and /metrics", metadata: ["port": "\(server.port)"])
            return server
        } catch {
            logger.critical("\(error); stopping")
            stopSignal.stop()
            return nil
        }
    }

    private enum LeaseWait { case acquired, stopped, held(NodeLease.Holder) }

    /// Takes the node id's lease, waiting while another holder's lease runs out (a killed predecessor's
    /// lapses within one TTL). Still held after three TTLs means a live node has this id.
    private func acquire(_ lease: NodeLease, _ redis: RedisConnection) throws(RedisError) -> LeaseWait {
        let giveUpAt = Timestamp.now() + 3 * lease.ttl
        var reported = false
        while true {
            guard let holder = try lease.tryAcquire(redis) else { return .acquired }
            if !reported {
                logger.warning("node id is held by another process; waiting for its lease to expire",
                               metadata: ["node_id": "\(configuration.nodeID)", "holder": "\(holder)", "lease": "\(lease.ttl)s"])
                reported = true
            }
            if Timestamp.now() >= giveUpAt { return .held(holder) }
            if stopSignal.wait(min(0.5, lease.ttl / 5)) { return .stopped }
        }
    }

    /// After a clean drain: with nothing left in progress, the node leaves the registry now (rather than
    /// at a takeover after its expiry), and it gives its id up, so its successor starts at once.
    private func leave(_ redis: RedisConnection, lease: NodeLease) {
        let node = configuration.nodeID
        do {
            let queues = (try redis.command("SMEMBERS", keys.nodeQueues(node)).array ?? []).compactMap(\.string)
            let lengths = try redis.pipeline(queues.map { RedisCommand("LLEN", keys.inProgress(queue: $0, node: node)) })
            if lengths.allSatisfy({ $0.int == 0 }) {
                try redis.pipeline([RedisCommand("ZREM", keys.nodes, node), RedisCommand("DEL", keys.nodeQueues(node))])
            }
            try lease.release(redis)
        } catch {
            logger.warning("could not release this node's lease; it expires by itself", metadata: ["error": "\(error)", "ttl": "\(lease.ttl)s"])
        }
    }

    // MARK: Runtime control (this node's queues; pause is fleet-wide)

    /// Adds a queue to this node (or changes its concurrency), kept in Redis for its restarts.
    public func addQueue(_ name: String, concurrency: Int) throws {
        try apiConnection.with { try QueueControl(redis: $0, keys: keys).addQueue(name, concurrency: concurrency, node: configuration.nodeID) }
        wakeWatcher.signal()
    }

    /// Removes a queue from this node: running jobs finish (up to `shutdown_timeout`), unstarted ones go
    /// back to the queue, its worker process stops.
    public func removeQueue(_ name: String) throws {
        try apiConnection.with { try QueueControl(redis: $0, keys: keys).removeQueue(name, node: configuration.nodeID) }
        wakeWatcher.signal()
    }

    /// Pauses a queue on every node: no new fetches, running jobs finish, enqueues still accepted.
    public func pause(_ queue: String) throws {
        try apiConnection.with { try QueueControl(redis: $0, keys: keys).pause(queue) }
        wakeWatcher.signal()
    }

    public func resume(_ queue: String) throws {
        try apiConnection.with { try QueueControl(redis: $0, keys: keys).resume(queue) }
        wakeWatcher.signal()
    }

    /// Verk's QueueStats for every known queue: size, latency, processed and failed totals, running now
    /// (across the fleet), paused.
    public func queueStats() throws -> [QueueStats] {
        try apiConnection.with { try QueueStats.read($0, keys: keys) }
    }

    /// Quiets this node, as Sidekiq's quiet: jobs fetched but not started go back to the head of their
    /// queue, nothing new starts, running jobs finish, and the schedule/retry poller stops. Until it stops.
    public func quiet() {
        logger.info("quiet requested through the Supervisor API")
        stopSignal.quiet()
    }

    private func nudgeQueues() {
        lock.lock()
        let all = queues.values.map(\.directives) + quarantines.values.map(\.directives)
        lock.unlock()
        for directives in all { directives.nudge() }
    }

    /// The queues this node serves now.
    public var servedQueues: [QueueConfiguration] { workState.servedQueues }

    // MARK: Queue managers

    /// Makes the running queue managers match what the node should run: new queues are started, removed
    /// ones (and ones whose concurrency changed) drained, every one told whether it is paused.
    private func apply(paused: Set<String>, overrides: QueueOverrides, redis: RedisConfiguration) {
        let desired = overrides.apply(to: configuration.queues)
        lock.lock()
        defer { lock.unlock() }
        guard !stopSignal.isStopping else { return }
        for (name, running) in queues where !running.directives.isRemoved {
            running.directives.setPaused(paused.contains(name))
            guard let wanted = desired.first(where: { $0.name == name }) else {
                logger.info("queue removed at runtime; draining it", metadata: ["queue": "\(name)"])
                running.directives.remove()
                continue
            }
            if wanted.concurrency != running.configuration.concurrency {
                logger.info("queue concurrency changed at runtime; draining its worker process to restart it",
                            metadata: ["queue": "\(name)", "from": "\(running.configuration.concurrency)", "to": "\(wanted.concurrency)"])
                running.directives.remove()
            }
        }
        for queue in desired where queues[queue.name] == nil {
            start(queue, paused: paused.contains(queue.name), redis: redis)
        }
        initialQueuesStarted = true
        health.expect(queues: desired.map(\.name))
        workState.servedQueues = desired.filter { queues[$0.name].map { !$0.directives.isRemoved } ?? false }
    }

    /// Starts one queue's manager thread (under `lock`). Its own connection is made here; if that fails,
    /// the next poll tries again.
    private func start(_ queue: QueueConfiguration, paused: Bool, redis: RedisConfiguration) {
        let connection: RedisConnection
        do {
            connection = try RedisConnection(configuration: redis, name: "verk-\(configuration.nodeID)-\(queue.name)", logger: logger)
            // Registered before the first fetch, so a restart of this node finds the queue's in-progress list.
            try connection.command("SADD", keys.nodeQueues(configuration.nodeID), queue.name)
        } catch {
            logger.error("cannot start queue; retrying at the next poll", metadata: ["queue": "\(queue.name)", "error": "\(error)"])
            return
        }
        let directives = QueueDirectives(paused: paused)
        let progress = health.register(queue: queue.name)
        queues[queue.name] = RunningQueue(configuration: queue, directives: directives)
        if initialQueuesStarted {
            logger.info("queue added at runtime", metadata: ["queue": "\(queue.name)", "concurrency": "\(queue.concurrency)"])
            events.emit(.queueAdded(queue: queue.name, concurrency: queue.concurrency))
        }
        let manager = ThreadHandoff(value: QueueManager(
            queue: queue, configuration: configuration, retrySchedules: retrySchedules, redis: connection, stop: stopSignal,
            fence: fence, directives: directives, workState: workState, events: events, restartPolicy: restartPolicy, progress: progress, logger: logger,
            onSuspects: { [self] in startQuarantine(queue, redis: redis) }))
        // The manager's thread spawns its child and lives as long as the queue: PDEATHSIG is per thread.
        startThread("verk-queue-\(queue.name)", group) { [self] in
            manager.value.run()
            health.remove(progress)
            queueEnded(queue.name, directives: directives)
        }
    }

    /// Starts the queue's quarantine manager unless one runs (from a queue manager's thread, after a crash
    /// sent suspects there). One that is already ending is told to start again, so no suspect waits.
    private func startQuarantine(_ queue: QueueConfiguration, redis: RedisConfiguration) {
        lock.lock()
        defer { lock.unlock() }
        guard !stopSignal.isStopping else { return }  // suspects wait in Redis; the next start requeues them
        if let running = quarantines[queue.name] {
            if running.directives.isRemoved { quarantines[queue.name]?.again = true }
            return
        }
        let connection: RedisConnection
        do {
            connection = try RedisConnection(configuration: redis, name: "verk-\(configuration.nodeID)-\(queue.name)-quarantine", logger: logger)
        } catch {
            logger.error("cannot start quarantine; its suspects wait in Redis until the next crash or restart",
                         metadata: ["queue": "\(queue.name)", "error": "\(error)"])
            return
        }
        let directives = QueueDirectives()
        quarantines[queue.name] = (directives, false)
        // Watched for liveness under its own name; readiness looks at the queue's own worker process.
        let progress = health.register(queue: QueueRole.quarantine.workKey(queue.name))
        let manager = ThreadHandoff(value: QueueManager(
            queue: queue, role: .quarantine, configuration: configuration, retrySchedules: retrySchedules, redis: connection,
            stop: stopSignal, fence: fence, directives: directives, workState: workState, events: events, restartPolicy: restartPolicy,
            progress: progress, logger: logger))
        startThread("verk-quarantine-\(queue.name)", group) { [self] in
            manager.value.run()
            health.remove(progress)
            lock.lock()
            let again = quarantines.removeValue(forKey: queue.name)?.again ?? false
            lock.unlock()
            workState.remove(queue: QueueRole.quarantine.workKey(queue.name))
            if again { startQuarantine(queue, redis: redis) }
        }
    }

    private func queueEnded(_ name: String, directives: QueueDirectives) {
        lock.lock()
        if queues[name]?.directives === directives { queues[name] = nil }
        lock.unlock()
        workState.remove(queue: name)
        if !stopSignal.isStopping {
            events.emit(.queueRemoved(queue: name))
            wakeWatcher.signal()  // a queue drained for a new concurrency starts again at once
        }
    }

    // MARK: Threads and signals

    private func startSignalWaiter(_ signals: sigset_t) {
        let timeout = Int(configuration.shutdownTimeout)
        OSThread.start(name: "verk-signals") { [stopSignal, logger] in
            var set = signals
            var sig: Int32 = 0
            while sigwait(&set, &sig) == 0 {
                if sig == SIGTSTP {
                    logger.info("quiet requested by signal SIGTSTP")
                    stopSignal.quiet()
                } else {
                    logger.info("received \(sig == SIGTERM ? "SIGTERM" : "SIGINT"); draining (up to \(timeout) s)")
                    stopSignal.stop()
                }
            }
        }
    }

    private func startThread(_ name: String, _ group: DispatchGroup, _ body: @escaping @Sendable () -> Void) {
        group.enter()
        OSThread.start(name: name, stackSize: 4 << 20) {
            body()
            group.leave()
        }
    }
}

/// The connection behind the runtime API, made on first use (the API is rarely called, and may be called
/// from `onStart`, before `run`). `@unchecked Sendable`: the connection only under `lock`.
private final class LazyConnection: @unchecked Sendable {
    private let lock = ThreadLock()
    private let url: String
    private var connection: RedisConnection?

    init(url: String) { self.url = url }

    func with<T>(_ body: (RedisConnection) throws -> T) throws -> T {
        lock.lock()
        defer { lock.unlock() }
        if let connection { return try body(connection) }
        let made = try RedisConnection(configuration: RedisConfiguration(url: url), name: "verk-api")
        connection = made
        return try body(made)
    }
}
