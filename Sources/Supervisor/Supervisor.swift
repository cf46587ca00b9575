import Foundation
import Logging
import VerkShared

/// The supervisor role: owns every Redis connection, runs one `QueueManager` thread (and worker process)
/// per queue and one `ScheduleManager`, and turns SIGTERM/SIGINT into a graceful drain.
public final class Supervisor {
    public let configuration: VerkConfiguration
    public let retrySchedules: RetrySchedules
    public let stopSignal = StopSignal()
    /// Job, queue and process events; subscribe before `run()` or at any time while it runs.
    public let events = EventBus()
    private let logger: Logger
    var restartPolicy = RestartPolicy()

    public init(configuration: VerkConfiguration, retrySchedules: RetrySchedules = RetrySchedules(), logger: Logger) {
        self.configuration = configuration
        self.retrySchedules = retrySchedules
        self.logger = logger
    }

    /// Runs until SIGTERM/SIGINT (or `stopSignal.stop()`), drains, and returns the process exit code.
    public func run() -> Int32 {
        // A write to a dead child or a dead Redis must be an error (EPIPE), not death.
        signal(SIGPIPE, SIG_IGN)
        // Block the stop signals in every thread; this one waits for them with sigwait. Children get a
        // clean mask from posix_spawn.
        var signals = sigset_t()
        sigemptyset(&signals)
        for s in [SIGTERM, SIGINT, SIGTSTP] { sigaddset(&signals, s) }
        pthread_sigmask(SIG_BLOCK, &signals, nil)

        let redisConfig: RedisConfiguration
        do {
            try configuration.validate()
            redisConfig = try RedisConfiguration(url: configuration.redisURL)
        } catch {
            logger.critical("invalid configuration: \(error)")
            return 78
        }
        let keys = KeySpace(namespace: configuration.namespace)
        var connections: [RedisConnection] = []
        do {
            // Every connection is made (and AUTH checked) before anything starts, so a bad URL fails fast.
            for i in 0...configuration.queues.count + 1 {
                connections.append(try RedisConnection(configuration: redisConfig, name: "verk-\(configuration.nodeID)-\(i)", logger: logger))
            }
            try NodeRecovery(redis: connections[0], keys: keys, nodeID: configuration.nodeID, logger: logger)
                .recover(queues: configuration.queues.map(\.name))
        } catch {
            logger.critical("cannot start: \(error)")
            return 1
        }
        logger.info("supervisor started", metadata: [
            "node_id": "\(configuration.nodeID)", "pid": "\(getpid())", "redis": "\(redisConfig)",
            "queues": "\(configuration.queues.map { "\($0.name):\($0.concurrency)" }.joined(separator: ","))",
        ])

        let group = DispatchGroup()
        let workState = WorkState()
        let finished = StopSignal()
        let heartbeat = ThreadHandoff(value: Heartbeat(redis: connections[configuration.queues.count + 1], configuration: configuration,
                                                       stop: stopSignal, workState: workState, logger: logger))
        let heartbeatGroup = DispatchGroup()
        startThread("verk-heartbeat", heartbeatGroup) { heartbeat.value.run(until: finished) }
        let schedule = ThreadHandoff(value: ScheduleManager(redis: connections[0], configuration: configuration, stop: stopSignal, logger: logger))
        startThread("verk-schedule", group) { schedule.value.run() }
        for (i, queue) in configuration.queues.enumerated() {
            let manager = ThreadHandoff(value: QueueManager(
                queue: queue, configuration: configuration, retrySchedules: retrySchedules, redis: connections[i + 1],
                stop: stopSignal, directives: QueueDirectives(), workState: workState, events: events,
                restartPolicy: restartPolicy, logger: logger))
            // The manager's thread spawns its child and lives as long as the queue: PDEATHSIG is per thread.
            startThread("verk-queue-\(queue.name)", group) { manager.value.run() }
        }

        let waitSet = signals
        let timeout = Int(configuration.shutdownTimeout)
        let waiter = Thread { [stopSignal, logger] in
            var set = waitSet
            var sig: Int32 = 0
            while sigwait(&set, &sig) == 0 {
                if sig == SIGTSTP {
                    logger.info("received SIGTSTP: quiet, no new jobs will be fetched")
                    stopSignal.quiet()
                } else {
                    logger.info("received \(sig == SIGTERM ? "SIGTERM" : "SIGINT"); draining (up to \(timeout) s)")
                    stopSignal.stop()
                }
            }
        }
        waiter.name = "verk-signals"
        waiter.start()
        group.wait()
        finished.stop()
        heartbeatGroup.wait()
        logger.info("supervisor stopped")
        return 0
    }

    private func startThread(_ name: String, _ group: DispatchGroup, _ body: @escaping @Sendable () -> Void) {
        group.enter()
        let thread = Thread {
            body()
            group.leave()
        }
        thread.name = name
        thread.stackSize = 4 << 20
        thread.start()
    }
}
