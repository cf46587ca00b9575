import Foundation

/// Everything a node needs to run. Built in code, then overlaid by a JSON file and by `VERK_*`
/// environment variables (`apply(file:)`, `apply(environment:)`), then checked by `validate()`.
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
    /// Nil means "as many as the concurrency".
    public var prefetch: Int?
    public var logLevel = "info"
    /// Seconds between heartbeats (Sidekiq 6.4 uses 5; the record expires after 60).
    public var heartbeatInterval: Double = 5
    /// Largest job payload (bytes) a worker process is sent; a larger one goes to the dead set with the
    /// reason. At most what a frame carries.
    public var maxJobSize = VerkConfiguration.maxJobSizeLimit
    /// Resident memory (MB) above which a worker process is drained and replaced (nil: no limit).
    public var workerMemoryLimitMB: Int?
    public static let maxJobSizeLimit = Frame.maxSize - 16

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

    public var retryPolicy: RetryPolicy { RetryPolicy(maxRetries: maxRetries, maxDeadJobs: maxDeadJobs, deadTimeout: deadTimeout) }

    public func prefetch(for queue: QueueConfiguration) -> Int { prefetch ?? queue.concurrency }

    public func memoryLimitMB(for queue: QueueConfiguration) -> Int? { queue.memoryLimitMB ?? workerMemoryLimitMB }

    /// Reads a JSON file with any of: redis_url, namespace, queues ({"name": concurrency} or ["name:n"]),
    /// node_id, max_retries, max_dead_jobs, dead_timeout, poll_interval, shutdown_timeout, prefetch, log_level,
    /// heartbeat_interval, max_job_size, worker_memory_limit (MB).
    public mutating func apply(file path: String) throws(ConfigurationError) {
        guard let data = FileManager.default.contents(atPath: path) else { throw .unreadableFile(path) }
        let root: JSONValue
        do { root = try JSONParser.parse(Array(data)) } catch { throw .invalidFile(path, reason: error.description) }
        guard let object = root.objectValue else { throw .invalidFile(path, reason: "the top level must be a JSON object") }
        for member in object {
            let value = member.value
            func text() throws(ConfigurationError) -> String {
                if let s = value.stringValue { return s }
                if let n = value.numberValue { return n.literal }
                throw .invalid(field: member.key, value: JSONWriter.string(value), reason: "expected a string or number")
            }
            switch member.key {
            case "queues":
                if let map = value.objectValue {
                    queues = try map.map { m throws(ConfigurationError) in
                        guard let n = m.value.intValue else {
                            throw .invalid(field: "queues.\(m.key)", value: JSONWriter.string(m.value), reason: "expected a concurrency number")
                        }
                        return QueueConfiguration(m.key, concurrency: n)
                    }
                } else if let list = value.arrayValue {
                    queues = try list.map { v throws(ConfigurationError) in try QueueConfiguration(parsing: v.stringValue ?? "") }
                } else {
                    throw .invalid(field: "queues", value: JSONWriter.string(value), reason: #"expected {"name": concurrency} or ["name:concurrency"]"#)
                }
            default:
                try set(member.key, try text(), source: path)
            }
        }
    }

    /// Overlays `VERK_REDIS_URL`, `VERK_NAMESPACE`, `VERK_QUEUES` (`default:10,mail:5`), `VERK_NODE_ID`,
    /// `VERK_MAX_RETRIES`, `VERK_MAX_DEAD_JOBS`, `VERK_DEAD_TIMEOUT`, `VERK_POLL_INTERVAL`,
    /// `VERK_SHUTDOWN_TIMEOUT`, `VERK_PREFETCH`, `VERK_LOG_LEVEL`, `VERK_HEARTBEAT_INTERVAL`, `VERK_MAX_JOB_SIZE`, `VERK_WORKER_MEMORY_LIMIT` (MB).
    public mutating func apply(environment: [String: String] = ProcessInfo.processInfo.environment) throws(ConfigurationError) {
        for (name, value) in environment where name.hasPrefix("VERK_") && !value.isEmpty {
            let field = name.dropFirst(5).lowercased()
            switch field {
            case "queues":
                queues = try value.split(separator: ",").map { s throws(ConfigurationError) in
                    try QueueConfiguration(parsing: s.trimmingCharacters(in: .whitespaces))
                }
            case "redis_url", "namespace", "node_id", "max_retries", "max_dead_jobs", "dead_max_jobs", "dead_timeout", "poll_interval",
                 "shutdown_timeout", "prefetch", "log_level", "heartbeat_interval", "max_job_size", "worker_memory_limit":
                try set(field, value, source: name)
            default:
                continue  // VERK_BIN_DIR and friends belong to other tools
            }
        }
    }

    private mutating func set(_ field: String, _ value: String, source: String) throws(ConfigurationError) {
        func int() throws(ConfigurationError) -> Int {
            guard let n = Int(value) else { throw .invalid(field: field, value: value, reason: "expected a whole number (from \(source))") }
            return n
        }
        func seconds() throws(ConfigurationError) -> Double {
            guard let d = Double(value) else { throw .invalid(field: field, value: value, reason: "expected seconds (from \(source))") }
            return d
        }
        switch field {
        case "redis_url": redisURL = value
        case "namespace": namespace = value
        case "node_id": nodeID = value
        case "max_retries": maxRetries = try int()
        case "max_dead_jobs", "dead_max_jobs": maxDeadJobs = try int()  // Verk's name, and Exq's
        case "dead_timeout": deadTimeout = try seconds()
        case "poll_interval": pollInterval = try seconds()
        case "shutdown_timeout": shutdownTimeout = try seconds()
        case "prefetch": prefetch = try int()
        case "heartbeat_interval": heartbeatInterval = try seconds()
        case "max_job_size": maxJobSize = try int()
        case "worker_memory_limit": workerMemoryLimitMB = try int()
        case "log_level": logLevel = value.lowercased()
        default: throw .unknownField(field, source: source)
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
        if let prefetch, !(0...10_000).contains(prefetch) { throw .invalid(field: "prefetch", value: "\(prefetch)", reason: "must be between 0 and 10000") }
        guard ["trace", "debug", "info", "notice", "warning", "error", "critical"].contains(logLevel) else {
            throw .invalid(field: "log_level", value: logLevel, reason: "use trace, debug, info, notice, warning, error or critical")
        }
    }
}
