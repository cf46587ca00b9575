import Logging
import Synchronization
import VerkShared
import VerkWorker

/// Test mode that keeps enqueued jobs in memory for assertions and runs them only when asked (`drain`).
/// Enqueue takes `VerkClient`'s push path (normalisation, client middleware); a scheduled job is kept with
/// its time in the `at` field, as Sidekiq's fake mode keeps it. Thread-safe.
///
/// ```swift
/// let verk = try FakeEnqueuer(workers: [SendEmail.self, AuditLog.self])
/// try signUp("ada@example.com", jobs: verk)                 // app code that takes `any JobEnqueuer`
/// #expect(try verk.jobs(of: SendEmail.self).map(\.to) == ["ada@example.com"])
/// try verk.drain()                                          // runs them, and the jobs they enqueue
/// ```
public final class FakeEnqueuer: JobEnqueuer, Sendable {
    private let run: TestRun
    private let pending = Mutex<[Job]>([])

    /// As `InlineEnqueuer.init`: the middleware apply when jobs are enqueued and when `drain` runs them.
    public init(workers: [any Worker.Type], middleware: [any ServerMiddleware] = [],
                clientMiddleware: [any ClientMiddleware] = [], logger: Logger = Logger(label: "verk-testing")) throws(RegistryError) {
        run = try TestRun(workers: workers, middleware: middleware, clientMiddleware: clientMiddleware, logger: logger)
    }

    /// Keeps the job; returns its jid. Throws `VerkClientError.skippedByMiddleware` when a client middleware
    /// skipped it (it is not kept).
    @discardableResult
    public func enqueue(_ job: Job, at: Double? = nil) throws -> String {
        let ready = try run.prepare(job, at: at)
        keep(ready.job, at: ready.at)
        return ready.job.jid ?? ""
    }

    /// Every job waiting, in the order they were enqueued.
    public var jobs: [Job] { pending.withLock { $0 } }
    public var count: Int { pending.withLock { $0.count } }

    /// The jobs waiting in `queue`.
    public func jobs(in queue: String) -> [Job] { jobs.filter { ($0.queue ?? "default") == queue } }

    /// The typed arguments of the waiting jobs of `worker`, in order. Throws `JobExecutionError` when a job's
    /// args do not decode as the worker's `Arguments` (it would fail the same way when run).
    public func jobs<W: Worker>(of worker: W.Type) throws -> [W.Arguments] {
        try jobs.filter { $0.className == W.className }.map { job in
            try WorkerArguments.decode(W.Arguments.self, from: job.args, className: W.className)
        }
    }

    /// Runs the waiting jobs in order, scheduled ones too, then the jobs they enqueue, until none is left;
    /// returns how many ran. A failing job is taken out and its error thrown (the jobs after it stay).
    /// More than `limit` jobs in one drain throws `FakeEnqueuerError.drainLimit`: a job enqueuing itself
    /// forever would otherwise hang the test.
    @discardableResult
    public func drain(limit: Int = 10_000) throws -> Int {
        var ran = 0
        while let job = pending.withLock({ $0.isEmpty ? nil : $0.removeFirst() }) {
            guard ran < limit else {
                pending.withLock { $0.insert(job, at: 0) }
                throw FakeEnqueuerError.drainLimit(limit)
            }
            ran += 1
            try run.perform(job) { [self] nested, at in keep(nested, at: at) }
        }
        return ran
    }

    /// Forgets every waiting job.
    public func clear() { pending.withLock { $0.removeAll() } }

    private func keep(_ job: Job, at: Double?) {
        var job = job
        if let at { job["at"] = Timestamp.json(at) }
        pending.withLock { $0.append(job) }
    }
}

public enum FakeEnqueuerError: Error, Sendable, Equatable, CustomStringConvertible {
    case drainLimit(Int)

    public var description: String {
        switch self {
        case .drainLimit(let n):
            return "drain ran \(n) jobs and more kept coming; a job probably enqueues itself. Pass a larger limit to drain(limit:) if that is expected"
        }
    }
}
