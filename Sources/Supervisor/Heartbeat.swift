import Dispatch
import Glibc
import Logging
import VerkShared

/// Publishes this node as a Sidekiq process, so Sidekiq's Busy page and API show it and what it runs:
/// every beat one MULTI writes the `processes` member, the process hash (info, busy, beat, quiet, rss,
/// rtt_us) and the work hashes under both names Sidekiq has used (`:workers` in 6.4.1, `:work` since),
/// all with Sidekiq's 60 s expiry, and pops one Web UI signal (TSTP = quiet, TERM = stop). Each beat tells
/// `NodeHealth` whether it reached Redis (readiness), and sets the `QueueGauges` when metrics are recorded.
final class Heartbeat {
    let identity: String
    private let redis: RedisConnection
    private let keys: KeySpace
    private let configuration: VerkConfiguration
    private let stop: StopSignal
    private let workState: WorkState
    private let logger: Logger
    private let startedAt = Timestamp.now()

    /// What Sidekiq's Busy page shows as the process's version.
    static let version = "1.0"
    private let lease: NodeLease
    private let fence: LeaseFence?
    private let reaper: NodeReaper
    private let onLeaseLost: () -> Void
    private var leaseLost = false
    private let health: NodeHealth
    private let gauges: QueueGauges?

    /// `onLeaseLost` is called once if this node finds its lease gone (it was cut off from Redis for longer
    /// than the lease, and may have been taken over): it must stop.
    /// `gauges`: nil when no metrics backend records them (they cost a round trip per beat).
    init(redis: RedisConnection, configuration: VerkConfiguration, stop: StopSignal, workState: WorkState, lease: NodeLease,
         fence: LeaseFence? = nil, events: EventBus, health: NodeHealth, gauges: QueueGauges?, logger: Logger, onLeaseLost: @escaping () -> Void) {
        self.redis = redis
        self.health = health
        self.gauges = gauges
        self.lease = lease
        self.fence = fence
        self.onLeaseLost = onLeaseLost
        reaper = NodeReaper(takeover: NodeTakeover(keys: KeySpace(namespace: configuration.namespace)), nodeID: configuration.nodeID,
                            expiry: configuration.nodeExpiry, events: events, logger: logger)
        keys = KeySpace(namespace: configuration.namespace)
        self.configuration = configuration
        self.stop = stop
        self.workState = workState
        self.logger = logger
        identity = "\(configuration.nodeID):\(getpid()):\(JobID.generate().prefix(12))"
    }

    /// Beats until `finished` is set (after every queue has drained), then removes the process record.
    func run(until finished: StopSignal) {
        repeat {
            do {
                try renewLease()
                try beat()
                try reaper.reap(redis)
                try sampleGauges()
                health.beat(reachedRedis: true)
            } catch {
                health.beat(reachedRedis: false)
                logger.warning("heartbeat failed", metadata: ["error": "\(error)"])
            }
        } while !finished.wait(configuration.heartbeatInterval)
        do {
            try redis.pipeline([
                RedisCommand("SREM", keys.processes, identity),
                RedisCommand("DEL", keys.processWorkersLegacy(identity), keys.processWork(identity)),
            ])
        } catch {
            logger.warning("could not remove the process record; it expires in 60 s", metadata: ["error": "\(error)"])
        }
    }

    private func renewLease() throws(RedisError) {
        guard !leaseLost else { return }
        let sentAt = Timestamp.now()
        switch try lease.renew(redis) {
        case .renewed:
            fence?.confirmed(sentAt: sentAt)
            return
        case .retaken:
            fence?.confirmed(sentAt: sentAt)
            logger.warning("this node's lease had lapsed (a heartbeat was late by more than \(configuration.leaseTTL) s) and was taken again; nothing had been taken over")
            return
        case .lost: break
        }
        leaseLost = true
        logger.critical("this node's lease expired (it was cut off from Redis for longer than \(configuration.leaseTTL) s) and its jobs may have been taken over; stopping", metadata: ["node_id": "\(configuration.nodeID)"])
        onLeaseLost()
    }

    private func sampleGauges() throws(RedisError) {
        guard let gauges else { return }
        let snapshot = workState.snapshot()
        try gauges.sample(redis, workers: Dictionary(workState.servedQueues.map { ($0.name, snapshot[$0.name]?.workerPID) },
                                                     uniquingKeysWith: { first, _ in first }))
    }

    func beat() throws(RedisError) {
        let snapshot = workState.snapshot()
        var work: [any RedisArgument] = []
        var busy = 0
        for (key, state) in snapshot {
            for (seq, running) in state.running {
                busy += 1
                work.append("\(key)-\(seq)")
                // Sidekiq reads queue, payload and run_at; Exq's API also reads host and pid.
                work.append(JSONWriter.encode([
                    "queue": .string(state.queue ?? key), "payload": .string(String(decoding: running.payload, as: UTF8.self)),
                    "run_at": .int(Int(running.startedAt)), "host": .string(configuration.nodeID),
                    "pid": .string(state.workerPID.map(String.init) ?? String(getpid())),
                ]))
            }
        }
        let pingStart = DispatchTime.now().uptimeNanoseconds
        try redis.command("PING")
        let rtt = Int((DispatchTime.now().uptimeNanoseconds - pingStart) / 1000)
        let now = Timestamp.now()
        let workKeys = [keys.processWorkersLegacy(identity), keys.processWork(identity)]
        var commands = [RedisCommand("MULTI"), RedisCommand("DEL", workKeys)]
        if !work.isEmpty {
            for key in workKeys {
                commands.append(RedisCommand("HSET", [key] + work))
                commands.append(RedisCommand("EXPIRE", key, SidekiqDefaults.processTTL))
            }
        }
        commands += [
            RedisCommand("SADD", keys.processes, identity),
            RedisCommand("HSET", keys.process(identity), "info", info(busy: busy), "busy", busy, "beat", now,
                         "quiet", stop.isQuiet ? "true" : "false", "rss", rssKB(snapshot), "rtt_us", rtt),
            RedisCommand("EXPIRE", keys.process(identity), SidekiqDefaults.processTTL),
            RedisCommand("RPOP", keys.signals(identity)),
            // XX: only a node still registered (NodeRecovery registers it at start). A beat that waited out a
            // partition in its PING must not put back a node that was taken over meanwhile: its lease would
            // then be "retaken" as if nothing had been, and it would run on with its queue set deleted.
            RedisCommand("ZADD", keys.nodes, "XX", now, configuration.nodeID),
            RedisCommand("EXEC"),
        ]
        let replies = try redis.pipeline(commands)
        guard let results = replies.last?.array else {
            throw .unexpectedReply(command: "EXEC (heartbeat)", expected: "an array", got: replies.last?.kind ?? "nothing")
        }
        if let signal = results[results.count - 2].string { handle(signal: signal, snapshot: snapshot) }
    }

    private func handle(signal: String, snapshot: [String: WorkState.QueueSnapshot]) {
        switch signal {
        case "TSTP":
            logger.info("quiet requested through the node's signal list (Sidekiq's Web UI or API, or `verk quiet`)")
            stop.quiet()
        case "TERM":
            logger.info("stop requested from Sidekiq's Web UI; draining (up to \(Int(configuration.shutdownTimeout)) s)")
            stop.stop()
        case "TTIN":
            for (queue, state) in snapshot.sorted(by: { $0.key < $1.key }) {
                logger.info("work", metadata: ["queue": "\(queue)", "running": "\(state.running.count)",
                                               "worker_pid": "\(state.workerPID.map(String.init) ?? "-")"])
            }
        default:
            logger.warning("ignoring unknown process signal", metadata: ["signal": "\(signal)"])
        }
    }

    /// Sidekiq's `info`: what the Busy page shows. `hostname` is the node id (a pod name), as operators
    /// know it; `node_id`, `queue_concurrency` and `node_expiry` are our own extras (for `verk processes`),
    /// which Sidekiq ignores.
    /// Exq's API reads `busy` and `quiet` inside `info`; Sidekiq 7's Busy page shows `version` and reads
    /// `weights` and `embedded`.
    private func info(busy: Int) -> [UInt8] {
        JSONWriter.encode([
            "hostname": .string(configuration.nodeID), "started_at": .double(startedAt), "pid": .int(Int(getpid())),
            "tag": "", "concurrency": .int(workState.servedQueues.reduce(0) { $0 + $1.concurrency }),
            "queues": .array(workState.servedQueues.map { .string($0.name) }), "labels": ["verk-swift"],
            "identity": .string(identity), "node_id": .string(configuration.nodeID),
            "queue_concurrency": .object(JSONObject(workState.servedQueues.map { ($0.name, .int($0.concurrency)) })),
            "node_expiry": .double(configuration.nodeExpiry),
            "busy": .int(busy), "quiet": .bool(stop.isQuiet), "version": .string("verk-swift \(Self.version)"),
            "weights": .object(JSONObject(workState.servedQueues.map { ($0.name, .int(0)) })), "embedded": .bool(false),
        ])
    }

    /// Resident memory of the supervisor and its worker processes, in KB, as Sidekiq reports `rss`.
    private func rssKB(_ snapshot: [String: WorkState.QueueSnapshot]) -> Int {
        let pids = [getpid()] + snapshot.values.compactMap(\.workerPID)
        return pids.reduce(0) { $0 + ProcessMemory.residentKB(pid: $1) }
    }
}
