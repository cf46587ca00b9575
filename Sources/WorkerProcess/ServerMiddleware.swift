import Logging
import VerkShared

/// Runs around every job in its worker process, like Sidekiq's server middleware: it sees the job before
/// the worker's `perform` and can
/// - **change it**: pass a changed copy to `next` (`var job = job; job.args = …; try next(job)`); the rest
///   of the chain, the worker's arguments and `context.job` see the change. The change is not stored:
///   a retry starts again from the job as it was fetched, as in Sidekiq;
/// - **skip it**: return without calling `next`; the job counts as done and is acknowledged;
/// - **fail it**: throw; the job takes the normal failure path (retry, then dead) with the error's type as
///   `error_class`, or `Verk.MiddlewareRejected` for a `MiddlewareRejection`;
/// - **observe it**: call `next` and look at the time it took or the error it threw (rethrow it, or the
///   job counts as done).
///
/// Middleware runs on the job's pool thread, in the order given to `Verk.main` (the first is outermost),
/// inside Verk's per-job logging. Call `next` at most once. Jobs whose class is not registered or whose
/// payload is not a job fail before any middleware runs.
///
/// ```swift
/// struct Tenant: ServerMiddleware {
///     func call(_ job: Job, context: JobContext, next: (Job) throws -> Void) throws {
///         guard job["tenant"] != nil else { throw MiddlewareRejection("no tenant") }
///         try next(job)
///     }
/// }
/// ```
public protocol ServerMiddleware: Sendable {
    func call(_ job: Job, context: JobContext, next: (Job) throws -> Void) throws
}

/// A middleware chain applied in order around a job's `perform`. Empty chains cost one call.
package struct ServerMiddlewareChain: Sendable {
    package let middlewares: [any ServerMiddleware]

    package init(_ middlewares: [any ServerMiddleware] = []) { self.middlewares = middlewares }

    /// The chain of a node: Verk's per-job log line (unless `jobLogLevel` is off) around the app's middleware.
    package init(jobLogLevel: Logger.Level?, app: [any ServerMiddleware]) {
        self.init((jobLogLevel.map { [JobLoggingMiddleware(level: $0)] } ?? []) + app)
    }

    /// Runs the chain, then `perform` with the job and context the last middleware passed on.
    package func run(_ job: Job, context: JobContext, perform: (Job, JobContext) throws -> Void) throws {
        try run(from: 0, job, context, perform)
    }

    private func run(from index: Int, _ job: Job, _ context: JobContext, _ perform: (Job, JobContext) throws -> Void) throws {
        guard index < middlewares.count else { return try perform(job, context) }
        try middlewares[index].call(job, context: context) { changed in
            try run(from: index + 1, changed, context.replacing(job: changed), perform)
        }
    }
}
