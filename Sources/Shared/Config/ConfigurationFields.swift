/// Every configuration field, in the order the README's Configuration table lists them. A field added here
/// is read from files and from the environment; `ConfigurationFieldTests` then asks for a test value and a
/// README row for it.
extension ConfigurationField {
    public static let all: [ConfigurationField] = [
        .text("redis_url", \.redisURL, default: .value(RedisConfiguration.defaultURL),
              "the Redis server, as a `redis://`, `unix://` or `redis+sentinel://` URL"),
        .textFromFile("redis_url_file", \.redisURL, default: .words("none"),
                      "a file holding the Redis URL (a mounted Secret): the password stays out of the environment and `ps`; wins over `redis_url`"),
        .optionalText("namespace", \.namespace, default: .words("none"),
                      "a prefix for every key: `ns` gives `ns:queue:default`, as redis-namespace does"),
        .queueList("queues", \.queues, default: .value("default:10"),
                   #"the queues this node serves, NAME:CONCURRENCY: `default:10,mail:5`, or in a file `{"default": 10}`"#),
        .text("node_id", \.nodeID, default: .words("the hostname"),
              "this node's identity, which names its in-progress lists: a StatefulSet pod name is stable across restarts"),
        .wholeNumber("max_retries", \.maxRetries, default: .value("\(SidekiqDefaults.maxRetries)"),
                     "retries before a failing job goes to the dead set (a job's own integer `retry` wins)"),
        .wholeNumber("max_dead_jobs", aliases: ["dead_max_jobs"], \.maxDeadJobs, default: .value("\(SidekiqDefaults.maxDeadJobs)"),
                     "the dead set keeps at most this many jobs, the oldest trimmed first"),
        .seconds("dead_timeout", \.deadTimeout, default: .value("\(Int(SidekiqDefaults.deadTimeout))"),
                 "seconds a job stays in the dead set (the default is 180 days)"),
        .seconds("poll_interval", \.pollInterval, default: .value("1"),
                 "average seconds between polls of the schedule and retry sets, jittered ±50%"),
        .seconds("shutdown_timeout", \.shutdownTimeout, default: .value("\(Int(SidekiqDefaults.shutdownTimeout))"),
                 "seconds running jobs get after SIGTERM before they go back to their queue (under Kubernetes' 30 s grace period)"),
        .optionalWholeNumber("prefetch", \.prefetch, default: .words("adaptive"),
                             "jobs sent to a worker process beyond its concurrency, so a thread never waits on Redis; adaptive by default: what the threads get through in 5 ms at the jobs' recent average duration (1 to 1,000), grown while the queue has a backlog"),
        .seconds("heartbeat_interval", \.heartbeatInterval, default: .value("5"),
                 "seconds between heartbeats, at most 30 (the process record expires after 60)"),
        .wholeNumber("max_process_kills", \.maxProcessKills, default: .value("3"),
                     "a job that has killed its worker process this many times (a crash it is the culprit of, or a hard timeout) goes to dead, whatever its retry setting"),
        .seconds("node_expiry", \.nodeExpiry, default: .value("30"),
                 "seconds without a heartbeat after which a node is dead and a live node takes over its jobs (at least 3 × heartbeat_interval, its lease)"),
        .wholeNumber("max_job_size", \.maxJobSize, default: .value("\(VerkConfiguration.maxJobSizeLimit)"),
                     "bytes; a larger payload goes to the dead set as `Verk.PayloadTooLarge` (the default, 64 MiB less a frame header)"),
        .optionalWholeNumber("worker_memory_limit", \.workerMemoryLimitMB, default: .words("none"),
                             "MB of resident memory above which a worker process is drained and replaced; per queue with `QueueConfiguration(memoryLimitMB:)`"),
        .choice("log_level", \.logLevel, from: VerkConfiguration.logLevels, default: .value("info"),
                "the level of the node's own log, in both roles: " + listed(VerkConfiguration.logLevels)),
        .choice("job_log_level", \.jobLogLevel, from: VerkConfiguration.jobLogLevels, default: .value("info"),
                "the level of the one line per job the logging server middleware writes: " + listed(VerkConfiguration.jobLogLevels)),
        .choice("timestamp_format", \.timestampFormat, from: TimestampFormat.configurable, default: .value("seconds"),
                "how new job timestamps are written: `seconds` (floats, read by Sidekiq 6, 7 and 8) or `milliseconds` (integers, as Sidekiq 8 writes; Sidekiq 6 and 7 misread them); a job keeps the form it came with"),
        .optionalWholeNumber("http_port", \.httpPort, default: .words("none"),
                             "the port of the HTTP endpoints `/healthz`, `/readyz` and `/metrics` (Prometheus), on every interface (0.0.0.0); unset, there is no HTTP server"),
    ]

    /// The field with this key or alias, if there is one.
    public static func named(_ name: String) -> ConfigurationField? { byName[name] }

    private static let byName: [String: ConfigurationField] = Dictionary(
        all.flatMap { field in field.names.map { ($0, field) } }, uniquingKeysWith: { first, _ in first })
}
