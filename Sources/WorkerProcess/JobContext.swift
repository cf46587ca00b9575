import Logging
import VerkShared

/// What a running job knows about itself, how it logs, and how it enqueues more work.
public struct JobContext: Sendable {
    public let job: Job
    /// The queue the job was fetched from.
    public let queue: String
    /// Receives jobs already prepared (normalised, client middleware applied): the supervisor in a worker
    /// process, the test mode in `VerkTesting`.
    let enqueuer: any JobEnqueuer
    let clientMiddleware: ClientMiddlewareChain
    /// The form of `created_at` on jobs this one enqueues (the node's `timestamp_format`).
    let timestamps: TimestampFormat
    /// The worker process's logger, without the job's metadata (see `logger`).
    let baseLogger: Logger

    public init(job: Job, queue: String, enqueuer: any JobEnqueuer,
                clientMiddleware: ClientMiddlewareChain = ClientMiddlewareChain(), logger: Logger = Logger(label: "verk"),
                timestamps: TimestampFormat = .seconds) {
        self.job = job
        self.queue = queue
        self.enqueuer = enqueuer
        self.clientMiddleware = clientMiddleware
        self.baseLogger = logger
        self.timestamps = timestamps
    }

    public var jid: String { job.jid ?? "" }
    public var className: String { job.className }
    /// Nil on the first run; 0 on the first retry (also for a job Verk or Exq wrote, which store 1 there).
    public var retryCount: Int? { job.sidekiqRetryCount }
    /// Epoch seconds, whether the job was stamped in seconds or (Sidekiq 8) milliseconds.
    public var enqueuedAt: Double? { job.enqueuedAt }
    public var createdAt: Double? { job.createdAt }

    /// A logger whose lines carry the job's `jid` and `queue`. Built when asked for, not per job: most jobs
    /// never log, and adding metadata to a handler costs a re-render (keep a copy if you log a lot).
    public var logger: Logger {
        var logger = baseLogger
        logger[metadataKey: "jid"] = "\(jid)"
        logger[metadataKey: "queue"] = "\(queue)"
        return logger
    }

    /// Enqueues a job (now, or at `at`: epoch seconds, or under 1e9 seconds from now); returns its jid.
    /// It takes the same push path as `VerkClient`, with the app's client middleware, in this process;
    /// the supervisor stores it and the call returns once Redis has it. Throws
    /// `VerkClientError.skippedByMiddleware` when a client middleware skips the job (it is not sent).
    @discardableResult
    public func enqueue(_ job: Job, at: Double? = nil) throws -> String {
        guard let ready = try JobPush.prepare([job], at: at, middleware: clientMiddleware, timestamps: timestamps).first else {
            throw VerkClientError.skippedByMiddleware
        }
        return try enqueuer.enqueue(ready.job, at: ready.at)
    }

    @discardableResult
    public func enqueue(_ className: String, args: [JSONValue] = [], queue: String = "default") throws -> String {
        try enqueue(Job(className: className, args: args, queue: queue))
    }

    /// The same context for the job a server middleware passed on.
    func replacing(job: Job) -> JobContext {
        JobContext(job: job, queue: queue, enqueuer: enqueuer, clientMiddleware: clientMiddleware, logger: baseLogger, timestamps: timestamps)
    }
}

/// A running job's context is an enqueuer too, so code written against `any JobEnqueuer` runs inside jobs.
extension JobContext: JobEnqueuer {}
