import FoundationEssentials

/// Everything a node needs to run. Built in code, then overlaid by a JSON file and by `VERK_*`
/// environment variables (`apply(file:)`, `apply(environment:)`), then checked by `validate()`.
/// `ConfigurationField.all` gives each property's file key, variable, default and meaning.
public struct VerkConfiguration: Sendable, Equatable {
    public var redisURL: String = RedisConfiguration.defaultURL
    public var namespace: String?
    public var queues: [QueueConfiguration] = [QueueConfiguration("default", concurrency: 10)]
    /// Stable identity of this node (a StatefulSet pod name); its in-progress lists are named after it.
    public var nodeID: String = VerkConfiguration.defaultNodeID()
    public var maxRetries = SidekiqDefaults.maxRetries
    public var maxDeadJobs = SidekiqDefaults.maxDeadJobs
    public var deadTimeout = SidekiqDefaults.deadTimeout
    /// Average seconds between polls of `schedule` and `retry` (each poll is jittered ±50%).
    public var pollInterval: Double = 1
    /// Seconds running jobs get to finish after SIGTERM before they are put back in their queue.
    public var shutdownTimeout = SidekiqDefaults.shutdownTimeout
    /// Jobs sent to a worker process beyond its concurrency, so a thread never waits on a Redis round trip.
    /// Nil means adaptive (`PrefetchWindow`): what the threads get through in 5 ms at the jobs' recent
    /// average duration, between 1 and 1,000, grown only while the queue has a backlog.
    public var prefetch: Int?
    /// The level of the node's own log (one of `logLevels`); `Verk.main` applies it in both roles.
    public var logLevel = "info"
    /// The level of the one line per job a logging server middleware writes (one of `jobLogLevels`);
    /// `off`, for which `Logger.Level(rawValue:)` is nil, writes none.
    public var jobLogLevel = "info"
    /// Seconds between heartbeats (Sidekiq 6.4 uses 5; the record expires after 60).
    public var heartbeatInterval: Double = 5
    /// A job that has killed its worker process this many times goes to dead whatever its retry setting.
    public var maxProcessKills = 3
    /// A node whose heartbeat is older than this (seconds) is dead: a live node takes over its jobs.
    public var nodeExpiry: Double = 30
    /// Largest job payload (bytes) a worker process is sent; a larger one goes to the dead set with the
    /// reason. At most what a frame carries.
    public var maxJobSize = VerkConfiguration.maxJobSizeLimit
    /// Resident memory (MB) above which a worker process is drained and replaced (nil: no limit).
    public var workerMemoryLimitMB: Int?
    /// How new job timestamps are written (one of `TimestampFormat.configurable`): `seconds`, which Sidekiq
    /// 6, 7 and 8 read, or Sidekiq 8's `milliseconds`. A job that has timestamps keeps its own form.
    public var timestampFormat = TimestampFormat.seconds.rawValue
    /// The port of the health, readiness and Prometheus endpoints, bound on 0.0.0.0 (nil: no HTTP server).
    public var httpPort: Int?
    public static let maxJobSizeLimit = Frame.maxSize - 16
    /// The longest duration any field accepts: 10 years.
    static let maxSeconds: Double = 315_360_000
    /// swift-log's levels, as `log_level` accepts them.
    public static let logLevels = ["trace", "debug", "info", "notice", "warning", "error", "critical"]
    /// A job log can also be switched off.
    public static let jobLogLevels = logLevels + ["off"]

    public init() {}

    public init(redisURL: String, queues: [QueueConfiguration], nodeID: String? = nil) {
        self.redisURL = redisURL
        self.queues = queues
        if let nodeID { self.nodeID = nodeID }
    }

    public static func defaultNodeID() -> String {
        if let id = ProcessInfo.processInfo.environment["VERK_NODE_ID"], !id.isEmpty { return id }
        return ProcessInfo.processInfo.hostName.split(separator: ".").first.map(String.init) ?? "localhost"
    }

    /// How long a node's lease lasts unless renewed: three heartbeats, so one slow beat never loses it.
    public var leaseTTL: Double { 3 * heartbeatInterval }

    public var retryPolicy: RetryPolicy {
        RetryPolicy(maxRetries: maxRetries, maxDeadJobs: maxDeadJobs, deadTimeout: deadTimeout, timestamps: timestamps)
    }

    /// `timestampFormat` as a value (`seconds` if it is not one; `validate()` refuses that).
    public var timestamps: TimestampFormat { TimestampFormat(rawValue: timestampFormat) ?? .seconds }

    public func memoryLimitMB(for queue: QueueConfiguration) -> Int? { queue.memoryLimitMB ?? workerMemoryLimitMB }

    /// Reads a JSON object whose keys are fields of `ConfigurationField.all` (or their aliases); an unknown
    /// key is refused, as it is most likely a typo.
    public mutating func apply(file path: String) throws(ConfigurationError) {
        guard let data = FileManager.default.contents(atPath: path) else { throw .unreadableFile(path) }
        let root: JSONValue
        do { root = try JSONParser.parse(Array(data)) } catch { throw .invalidFile(path, reason: error.description) }
        guard let object = root.objectValue else { throw .invalidFile(path, reason: "the top level must be a JSON object") }
        for member in object {
            guard let field = ConfigurationField.named(member.key) else { throw .unknownField(member.key, source: path) }
            try field.apply(.json(member.value), as: member.key, from: path, to: &self)
        }
    }

    /// Overlays the `VERK_*` variable of each field of `ConfigurationField.all` (`VERK_SHUTDOWN_TIMEOUT`,
    /// `VERK_QUEUES=default:10,mail:5`…). Empty variables and other `VERK_*` names are ignored. Applying the
    /// same environment twice changes nothing more than applying it once.
    public mutating func apply(environment: [String: String] = ProcessInfo.processInfo.environment) throws(ConfigurationError) {
        // Sorted, so that a field set under two names, or two bad variables, give the same outcome every run.
        for (variable, value) in environment.sorted(by: { $0.key < $1.key }) where variable.hasPrefix("VERK_") && !value.isEmpty {
            let name = variable.dropFirst(5).lowercased()
            // VERK_BIN_DIR, the worker-process contract and friends belong to other tools.
            guard let field = ConfigurationField.named(name) else { continue }
            try field.apply(.text(value), as: name, from: variable, to: &self)
        }
    }

    /// Refuses a configuration that cannot run, naming the field, the value and what would be right.
    public func validate() throws(ConfigurationError) {
        do { _ = try RedisConfiguration(url: redisURL) } catch {
            throw .invalid(field: "redis_url", value: RedisConfiguration.redact(redisURL), reason: "\(error)")
        }
        guard !queues.isEmpty else { throw .invalid(field: "queues", value: "[]", reason: "at least one queue is needed") }
        var seen = Set<String>()
        for q in queues {
            try q.validate()
            guard seen.insert(q.name).inserted else { throw .invalid(field: "queues", value: q.name, reason: "the queue is listed twice") }
        }
        guard !nodeID.isEmpty, !nodeID.contains(where: { $0 == " " || $0 == "\n" }) else {
            throw .invalid(field: "node_id", value: nodeID, reason: "must be non-empty with no spaces")
        }
        guard maxRetries >= 0 else { throw .invalid(field: "max_retries", value: "\(maxRetries)", reason: "must be 0 or more") }
        guard maxDeadJobs >= 1 else { throw .invalid(field: "max_dead_jobs", value: "\(maxDeadJobs)", reason: "must be at least 1") }
        guard deadTimeout > 0 else { throw .invalid(field: "dead_timeout", value: "\(deadTimeout)", reason: "must be positive seconds") }
        guard pollInterval > 0, pollInterval <= 3600 else { throw .invalid(field: "poll_interval", value: "\(pollInterval)", reason: "must be between 0 and 3600 seconds") }
        guard maxProcessKills >= 1 else {
            throw .invalid(field: "max_process_kills", value: "\(maxProcessKills)", reason: "must be at least 1")
        }
        guard nodeExpiry >= leaseTTL else {
            throw .invalid(field: "node_expiry", value: "\(nodeExpiry)",
                           reason: "must be at least 3 × heartbeat_interval (\(leaseTTL) s), the life of a node's lease, so a live node is never taken over")
        }
        guard heartbeatInterval > 0, heartbeatInterval <= 30 else {
            throw .invalid(field: "heartbeat_interval", value: "\(heartbeatInterval)", reason: "must be between 0 and 30 seconds (the process record expires after 60)")
        }
        for limit in [workerMemoryLimitMB] + queues.map(\.memoryLimitMB) {
            if let limit, limit < 16 {
                throw .invalid(field: "worker_memory_limit", value: "\(limit)", reason: "must be at least 16 (MB); a worker process needs about 15 MB idle")
            }
        }
        guard (1024...Self.maxJobSizeLimit).contains(maxJobSize) else {
            throw .invalid(field: "max_job_size", value: "\(maxJobSize)", reason: "must be between 1024 and \(Self.maxJobSizeLimit) bytes")
        }
        guard shutdownTimeout > 0 else { throw .invalid(field: "shutdown_timeout", value: "\(shutdownTimeout)", reason: "must be positive seconds") }
        // Durations become deadlines and whole seconds (the supervisor logs `Int(shutdownTimeout)`): infinity or
        // 1e300 would trap there, and no duration here means anything beyond years.
        for (field, seconds) in [("dead_timeout", deadTimeout), ("shutdown_timeout", shutdownTimeout), ("node_expiry", nodeExpiry)]
        where !(seconds <= Self.maxSeconds) {
            throw .invalid(field: field, value: "\(seconds)", reason: "must be at most \(Int(Self.maxSeconds)) seconds (10 years)")
        }
        if let prefetch, !(0...10_000).contains(prefetch) { throw .invalid(field: "prefetch", value: "\(prefetch)", reason: "must be between 0 and 10000") }
        if let httpPort, !(1...65_535).contains(httpPort) {
            throw .invalid(field: "http_port", value: "\(httpPort)", reason: "must be a TCP port between 1 and 65535")
        }
        guard Self.logLevels.contains(logLevel) else {
            throw .invalid(field: "log_level", value: logLevel, reason: "use " + ConfigurationField.listed(Self.logLevels))
        }
        guard Self.jobLogLevels.contains(jobLogLevel) else {
            throw .invalid(field: "job_log_level", value: jobLogLevel, reason: "use " + ConfigurationField.listed(Self.jobLogLevels))
        }
        guard TimestampFormat.configurable.contains(timestampFormat) else {
            throw .invalid(field: "timestamp_format", value: timestampFormat, reason: "use " + ConfigurationField.listed(TimestampFormat.configurable))
        }
    }
}
