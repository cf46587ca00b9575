/// The one owner of the Redis key layout. Sidekiq's keys are used as Sidekiq names them, so Sidekiq's API
/// and Web see our data; Verk's own bookkeeping lives under `verk:` so Sidekiq never mistakes it for a queue.
/// An optional namespace prefixes every key as the redis-namespace gem does (`ns:queue:default`).
public struct KeySpace: Sendable, Equatable {
    public let namespace: String?

    public init(namespace: String? = nil) {
        self.namespace = namespace.flatMap { $0.isEmpty ? nil : $0 }
    }

    @inline(__always) func key(_ raw: String) -> String {
        guard let namespace else { return raw }
        return namespace + ":" + raw
    }

    // MARK: Sidekiq's keys

    public func queue(_ name: String) -> String { key("queue:" + name) }
    /// Set of queue names (members are not prefixed).
    public var queues: String { key("queues") }
    public var schedule: String { key("schedule") }
    public var retry: String { key("retry") }
    public var dead: String { key("dead") }
    public var processed: String { key("stat:processed") }
    public var failed: String { key("stat:failed") }
    /// `day` is a UTC date `YYYY-MM-DD`.
    public func processed(day: String) -> String { key("stat:processed:" + day) }
    public func failed(day: String) -> String { key("stat:failed:" + day) }
    public var processes: String { key("processes") }
    /// Sidekiq 7's execution metrics hash for a time bucket (`YYMMDD|H:MM`, or `YYMMDD|H:M` per ten minutes).
    public func sidekiqMetrics(bucket: String) -> String { key("j|" + bucket) }
    /// Exq's per-second counters (`YYYY-MM-DD HH:MM:SSZ`).
    public func realtimeProcessed(_ second: String) -> String { key("stat:processed_rt:" + second) }
    public func realtimeFailed(_ second: String) -> String { key("stat:failed_rt:" + second) }
    public func process(_ identity: String) -> String { key(identity) }
    /// The work hash as Sidekiq 6.4.1 names it, and as 6.4.2+ names it: both are written.
    public func processWorkersLegacy(_ identity: String) -> String { key(identity + ":workers") }
    public func processWork(_ identity: String) -> String { key(identity + ":work") }
    public func signals(_ identity: String) -> String { key(identity + "-signals") }

    // MARK: Verk's own keys

    /// This node's in-progress list for one queue: jobs fetched and not yet acknowledged.
    public func inProgress(queue: String, node: String) -> String { key("verk:inprogress:" + node + ":" + queue) }
    /// Suspects of a worker-process crash on this node, waiting to be re-run one at a time in quarantine.
    public func quarantine(queue: String, node: String) -> String { key("verk:quarantine:" + node + ":" + queue) }
    /// The suspect running in quarantine now (at most one): its in-progress list.
    public func quarantineRunning(queue: String, node: String) -> String { key("verk:quarantine-running:" + node + ":" + queue) }
    /// Every list that holds a node's jobs of one queue between fetch and settlement, for recovery and takeover.
    public func nodeLists(queue: String, node: String) -> [String] {
        [inProgress(queue: queue, node: node), quarantine(queue: queue, node: node), quarantineRunning(queue: queue, node: node)]
    }
    /// Per-queue totals, a hash with `processed` and `failed` fields.
    public func queueStats(_ queue: String) -> String { key("verk:stat:queue:" + queue) }
    /// Nodes known to have in-progress lists: zset of node id → last heartbeat.
    public var nodes: String { key("verk:nodes") }
    /// The lease that makes one live node per id: holder token, host, pid and since, expiring unless renewed.
    public func nodeLease(_ node: String) -> String { key("verk:node:" + node + ":lease") }
    /// Queues a node has fetched from (so its in-progress lists can be found after it dies).
    public func nodeQueues(_ node: String) -> String { key("verk:node:" + node + ":queues") }

    // MARK: Runtime queue control (see QueueControl)

    /// Set of queue names no node fetches from, fleet-wide, until resumed.
    public var paused: String { key("verk:paused") }
    /// Fleet-wide runtime queue commands: hash of queue name → concurrency (decimal) or `removed`.
    public var queueOverrides: String { key("verk:queue-overrides") }
    /// One node's own runtime queue commands, in the same format; they win over the fleet-wide ones.
    public func queueOverrides(node: String) -> String {
        let affixes = nodeQueueOverridesAffixes
        return affixes.prefix + node + affixes.suffix
    }
    /// What comes before and after the node id in `queueOverrides(node:)`: a Lua script that clears every
    /// node's entry builds the names from these, so the layout is still only written here.
    public var nodeQueueOverridesAffixes: (prefix: String, suffix: String) { (key("verk:node:"), ":queue-overrides") }
    /// Set of node ids that have been given their own queue commands. A node may be told something before
    /// it first starts, when it is not yet in `nodes`; a fleet-wide command must still clear its entry.
    public var queueOverrideNodes: String { key("verk:queue-overrides:nodes") }
}

/// Sidekiq's constants for stats and the dead set.
public enum SidekiqDefaults {
    /// Daily stat keys expire after five years, re-applied at each flush.
    public static let dailyStatTTL = 157_680_000
    public static let maxRetries = 25
    public static let maxDeadJobs = 10_000
    /// 180 days.
    public static let deadTimeout: Double = 15_552_000
    public static let shutdownTimeout: Double = 25
    public static let processTTL = 60
}
