import Logging
import VerkShared
import VerkWorker

/// Test mode that runs each job the moment it is enqueued, in the caller's thread: through the client
/// middleware, the server middleware and the worker's `perform`, as a worker process would, without Redis.
/// Jobs a running job enqueues run inline too, before its `enqueue` returns. Scheduled jobs run at once.
///
/// A job that fails throws its error (or a middleware's) out of `enqueue`, unchanged, so a test can
/// `#expect(throws: MailError.self)`; an unregistered class or undecodable args throw `JobExecutionError`.
/// A failure in a nested job reaches the job that enqueued it first, as its `enqueue` throwing.
///
/// ```swift
/// let verk = try InlineEnqueuer(workers: [SendEmail.self, AuditLog.self])
/// try verk.enqueue(SendEmail.self, .init(to: "ada@example.com", subject: "hi"))  // has run when this returns
/// ```
public struct InlineEnqueuer: JobEnqueuer {
    private let run: TestRun

    /// `middleware` and `clientMiddleware` as given to `Verk.main` (Verk's per-job log line is not added:
    /// put a `JobLoggingMiddleware` first to have it). Throws for duplicate class names, as `Verk.main` refuses.
    public init(workers: [any Worker.Type], middleware: [any ServerMiddleware] = [],
                clientMiddleware: [any ClientMiddleware] = [], logger: Logger = Logger(label: "verk-testing")) throws(RegistryError) {
        run = try TestRun(workers: workers, middleware: middleware, clientMiddleware: clientMiddleware, logger: logger)
    }

    /// Runs the job now (whatever `at` says); returns its jid once it has run. Throws what the job threw, or
    /// `VerkClientError.skippedByMiddleware` when a client middleware skipped it (it did not run).
    @discardableResult
    public func enqueue(_ job: Job, at: Double? = nil) throws -> String {
        let ready = try run.prepare(job, at: at)
        try perform(ready.job)
        return ready.job.jid ?? ""
    }

    private func perform(_ job: Job) throws {
        try run.perform(job) { [self] nested, _ in try perform(nested) }
    }
}
