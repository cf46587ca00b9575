/// Enqueues jobs from any Swift program, straight to Redis, in Sidekiq's format.
/// Thread-safe: one connection behind a lock (a push is one round trip, tens of microseconds).
public final class VerkClient: JobEnqueuer, Sendable {
    public let keys: KeySpace
    public let middleware: ClientMiddlewareChain
    /// How `created_at` and `enqueued_at` are written (`timestamp_format`): `.milliseconds` when every
    /// Sidekiq reading the Redis is 8 or later.
    public let timestamps: TimestampFormat
    private let connection: LockedConnection

    public init(configuration: RedisConfiguration, namespace: String? = nil, middleware: [any ClientMiddleware] = [],
                timestamps: TimestampFormat = .seconds) throws(RedisError) {
        keys = KeySpace(namespace: namespace)
        self.middleware = ClientMiddlewareChain(middleware)
        self.timestamps = timestamps
        connection = LockedConnection(try RedisConnection(configuration: configuration, name: "verk-client"))
    }

    public convenience init(url: String, namespace: String? = nil, middleware: [any ClientMiddleware] = [],
                            timestamps: TimestampFormat = .seconds) throws(RedisError) {
        try self.init(configuration: RedisConfiguration(url: url), namespace: namespace, middleware: middleware, timestamps: timestamps)
    }

    /// Enqueues a job by class name; returns its jid.
    @discardableResult
    public func enqueue(
        _ className: String, args: [JSONValue] = [], queue: String = "default", retry: RetrySetting = .enabled
    ) throws -> String {
        try enqueue(Job(className: className, args: args, queue: queue, retry: retry))
    }

    /// Enqueues a job now, or at `at` (epoch seconds; under 1e9 means "in that many seconds").
    @discardableResult
    public func enqueue(_ job: Job, at: Double? = nil) throws -> String {
        let jids = try enqueue(many: [job], at: at)
        guard let jid = jids.first else { throw VerkClientError.skippedByMiddleware }
        return jid
    }

    /// Schedules a job `seconds` from now.
    @discardableResult
    public func schedule(_ job: Job, in seconds: Double) throws -> String {
        try enqueue(job, at: Timestamp.now() + seconds)
    }

    /// Enqueues many jobs in one pipelined round trip; returns their jids (skipped jobs are left out).
    @discardableResult
    public func enqueue(many jobs: [Job], at: Double? = nil) throws -> [String] {
        let now = Timestamp.now()
        let ready = try JobPush.prepare(jobs, at: at, middleware: middleware, now: now, timestamps: timestamps)
        let commands = JobPush(keys: keys, timestamps: timestamps).commands(for: ready, now: now)
        try run(commands)
        return ready.compactMap(\.job.jid)
    }

    /// Sends pre-built push commands (used for jobs a running job enqueues through its parent).
    func run(_ commands: [RedisCommand]) throws {
        guard !commands.isEmpty else { return }
        let replies = try connection.withLock { conn in try conn.pipeline(commands) }
        for (command, reply) in zip(commands, replies) {
            if case .error(let message) = reply { throw RedisError.server(command: command.name, message: message) }
        }
    }

    /// Runs `body` with the client's connection, under its lock (for the operator API and the CLI).
    public func withConnection<T>(_ body: (RedisConnection) throws -> T) throws -> T {
        try connection.withLock { conn in try body(conn) }
    }
}

public enum VerkClientError: Error, Sendable, CustomStringConvertible {
    case skippedByMiddleware

    public var description: String { "the job was skipped by a client middleware and not enqueued" }
}
