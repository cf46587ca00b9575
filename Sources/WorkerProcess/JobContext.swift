import VerkShared

/// What a running job knows about itself, and how it enqueues more work.
public struct JobContext: Sendable {
    public let job: Job
    /// The queue the job was fetched from.
    public let queue: String
    let enqueuer: any JobEnqueuer

    public init(job: Job, queue: String, enqueuer: any JobEnqueuer) {
        self.job = job
        self.queue = queue
        self.enqueuer = enqueuer
    }

    public var jid: String { job.jid ?? "" }
    public var className: String { job.className }
    /// Nil on the first run; 0 on the first retry.
    public var retryCount: Int? { job.retryCount }
    public var enqueuedAt: Double? { job.enqueuedAt }
    public var createdAt: Double? { job.createdAt }

    /// Enqueues a job (now, or at `at` epoch seconds); returns its jid.
    @discardableResult
    public func enqueue(_ job: Job, at: Double? = nil) throws -> String {
        var job = job
        let now = Timestamp.now()
        JobPush.normalize(&job, now: now)
        return try enqueuer.enqueue(job, at: JobPush.scheduleTime(at, now: now))
    }

    @discardableResult
    public func enqueue(_ className: String, args: [JSONValue] = [], queue: String = "default") throws -> String {
        try enqueue(Job(className: className, args: args, queue: queue))
    }

    /// Typed form: the worker's options give the queue and retry setting.
    @discardableResult
    public func enqueue<W: Worker>(_ worker: W.Type, _ args: W.Arguments, at: Double? = nil) throws -> String where W.Arguments: Encodable {
        try enqueue(Job(worker, args), at: at)
    }
}

extension Job {
    /// A job for a registered worker type, with that worker's queue, retry and backtrace options.
    public init<W: Worker>(_ worker: W.Type, _ args: W.Arguments) throws where W.Arguments: Encodable {
        self.init(className: W.className, args: try WorkerArguments.encode(args), queue: W.options.queue, retry: W.options.retry)
        if let lines = W.options.backtrace { self["backtrace"] = .int(lines) }
    }
}

extension VerkClient {
    /// Enqueues a job of a registered worker type with its typed arguments; returns its jid.
    @discardableResult
    public func enqueue<W: Worker>(_ worker: W.Type, _ args: W.Arguments, at: Double? = nil) throws -> String where W.Arguments: Encodable {
        try enqueue(Job(worker, args), at: at)
    }
}
