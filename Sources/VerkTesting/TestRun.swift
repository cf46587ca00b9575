import Logging
import VerkShared
import VerkWorker

/// What both test modes share: the registered workers and the app's middleware, and how one job runs
/// here, in the calling thread, as its worker process would run it (no Redis, no processes).
struct TestRun: Sendable {
    let registry: WorkerRegistry
    let middleware: ServerMiddlewareChain
    let clientMiddleware: ClientMiddlewareChain
    let logger: Logger

    init(workers: [any Worker.Type], middleware: [any ServerMiddleware], clientMiddleware: [any ClientMiddleware],
         logger: Logger) throws(RegistryError) {
        registry = try WorkerRegistry(workers)
        self.middleware = ServerMiddlewareChain(middleware)
        self.clientMiddleware = ClientMiddlewareChain(clientMiddleware)
        self.logger = logger
    }

    /// `VerkClient`'s push path: normalise, resolve `at`, run the client middleware. Throws
    /// `VerkClientError.skippedByMiddleware` for a job a client middleware skips, as `VerkClient` does.
    func prepare(_ job: Job, at: Double?) throws -> (job: Job, at: Double?) {
        guard let ready = try JobPush.prepare([job], at: at, middleware: clientMiddleware).first else {
            throw VerkClientError.skippedByMiddleware
        }
        return ready
    }

    /// Runs a prepared job through the server middleware and its worker, and throws what they threw. Jobs it
    /// enqueues take its context's push path (client middleware included) and are handed to `enqueued`.
    func perform(_ job: Job, enqueued: @escaping @Sendable (Job, Double?) throws -> Void) throws {
        var job = job
        // As the job would look when fetched: in its queue since now, no schedule time.
        job["at"] = nil
        if job.enqueuedAt == nil { job.enqueuedAt = Timestamp.now() }
        let runner = JobRunner(registry: registry, queue: job.queue ?? "default", enqueuer: PreparedJobs(accept: enqueued),
                               middleware: middleware, clientMiddleware: clientMiddleware, logger: logger)
        try runner.perform(job)
    }
}

/// Where a running job's context sends the jobs it enqueues, already prepared by its push path.
struct PreparedJobs: JobEnqueuer {
    let accept: @Sendable (Job, Double?) throws -> Void

    func enqueue(_ job: Job, at: Double?) throws -> String {
        try accept(job, at)
        return job.jid ?? ""
    }
}
