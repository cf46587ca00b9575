import Logging
import Tracing
import VerkShared

/// Runs one job: decode, look up the worker, run the server middleware chain around its `perform`, and
/// report done or failed.
package struct JobRunner: Sendable {
    let registry: WorkerRegistry
    let queue: String
    let enqueuer: any JobEnqueuer
    let middleware: ServerMiddlewareChain
    let clientMiddleware: ClientMiddlewareChain
    let logger: Logger
    /// The node's `timestamp_format`, for jobs that jobs enqueue.
    let timestamps: TimestampFormat
    /// The app's tracer, looked up once (a lookup costs a lock): nil, the no-op one, traces nothing.
    let tracer: (any Tracer)?

    package init(registry: WorkerRegistry, queue: String, enqueuer: any JobEnqueuer,
                 middleware: ServerMiddlewareChain = ServerMiddlewareChain(),
                 clientMiddleware: ClientMiddlewareChain = ClientMiddlewareChain(), logger: Logger = Logger(label: "verk"),
                 timestamps: TimestampFormat = .seconds,
                 tracer: (any Tracer)? = JobTracing.activeTracer) {
        self.registry = registry
        self.queue = queue
        self.enqueuer = enqueuer
        self.middleware = middleware
        self.clientMiddleware = clientMiddleware
        self.logger = logger
        self.timestamps = timestamps
        self.tracer = tracer
    }

    package enum Result: Sendable, Equatable {
        case done
        case failed(JobFailure)
    }

    /// Runs a payload; `started` is called once, before the job's code, with its hard timeout (0: none).
    package func run(_ payload: [UInt8], started: (Double) -> Void = { _ in }) -> Result {
        let job: Job
        do {
            job = try Job(parsing: payload)
        } catch {
            started(0)
            let e = JobExecutionError.invalidPayload("\(error)")
            return .failed(JobFailure(errorClass: e.errorClass, message: e.description))
        }
        // A parked invalid payload put back in a queue (the Web's "Retry now"): its class and args are not the
        // original job's, so it must not run; the supervisor sends it back to dead.
        if ParkedPayload.isParked(job) {
            started(0)
            let e = JobExecutionError.invalidPayload("it is an invalid payload parked in the dead set, with its original in "
                + "\(ParkedPayload.textField) (or \(ParkedPayload.base64Field)); fix the original and push that instead")
            return .failed(JobFailure(errorClass: e.errorClass, message: e.description))
        }
        do {
            try perform(job, started: started)
            return .done
        } catch {
            return .failed(JobFailure(error: error, className: job.className))
        }
    }

    /// Runs a job and throws what it (or a middleware) threw, as it was thrown; `JobExecutionError` when
    /// its class is not registered or its args do not decode. `started` as in `run`. With a tracer
    /// bootstrapped, all of it is the job's perform span, a child of its push span (`JobTracing`).
    package func perform(_ job: Job, started: (Double) -> Void = { _ in }) throws {
        let entry = registry.entry(job.className)
        started(job["timeout"]?.doubleValue ?? entry?.options.timeout ?? 0)
        try JobTracing.perform(job, queue: queue, tracer: tracer) {
            guard let entry else {
                throw JobExecutionError.unknownWorker(className: job.className, queue: queue, registered: registry.classNames)
            }
            let context = JobContext(job: job, queue: queue, enqueuer: enqueuer, clientMiddleware: clientMiddleware, logger: logger,
                                     timestamps: timestamps)
            // The worker decodes its arguments inside the chain, so a middleware can still fix them.
            try middleware.run(job, context: context) { job, context in try entry.run(job, context) }
        }
    }
}
