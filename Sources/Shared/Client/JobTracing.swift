import Tracing

/// Spans for a job's push and its perform, through swift-distributed-tracing, with the trace context carried
/// in the job from one to the other as `trace_context`: an object of strings (a W3C tracer writes
/// `traceparent` and `tracestate`), a field Sidekiq ignores and keeps. Nothing happens unless the app
/// bootstraps a tracer (`InstrumentationSystem.bootstrap`, in both roles: before `Verk.main`): with the no-op
/// tracer a job is byte for byte what Sidekiq's client writes, and a perform costs nothing (its runner looks
/// the tracer up once).
package enum JobTracing {
    package static let field = "trace_context"
    package static let pushSpan = "verk.push"
    package static let performSpan = "verk.perform"

    /// The tracer the app set up (or a test scoped with `withTracer`), or nil for swift-distributed-tracing's
    /// no-op one. A lookup costs a lock and casts, ~100 ns without a tracer and several times that with one:
    /// once per push call, once per worker process for performs.
    package static var activeTracer: (any Tracer)? {
        if InstrumentationSystem.instrument is NoOpInstrument { return nil }
        let tracer = InstrumentationSystem.tracer
        return tracer is NoOpTracer ? nil : tracer
    }

    /// Records the push of `job` as a span, a child of the caller's current span (a running job's perform
    /// span, an app's request) or else of the context the job already carries (a job pushed again), and
    /// writes the span's context into the job. The span ends here: the job is about to be written.
    package static func push(_ job: inout Job, at: Double?, tracer: any Tracer) {
        push(&job, at: at, with: tracer)
    }

    private static func push(_ job: inout Job, at: Double?, with tracer: some Tracer) {
        var parent = InstrumentationContext.current ?? .topLevel
        if InstrumentationContext.current == nil, let carried = carrier(of: job) {
            tracer.extract(carried, into: &parent, using: JobTraceCarrier())
        }
        let span = tracer.startSpan(pushSpan, context: parent, ofKind: .producer)
        describe(span, job)
        if let at { span.attributes["verk.scheduled_at"] = at }
        var carrier: [String: String] = [:]
        tracer.inject(span.context, into: &carrier, using: JobTraceCarrier())
        span.end()
        // A tracer that propagates nothing (it only records) leaves the job as it was.
        guard !carrier.isEmpty else { return }
        job[field] = .object(JSONObject(carrier.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) }))
    }

    /// Runs `body` in a perform span for `job` when there is a `tracer`, a child of its push span when the
    /// job carries one (a job pushed by Sidekiq's Ruby client starts a trace of its own). A thrown error is
    /// recorded on the span.
    package static func perform<T>(_ job: Job, queue: String, tracer: (any Tracer)?, _ body: () throws -> T) throws -> T {
        guard let tracer else { return try body() }
        return try perform(job, queue: queue, with: tracer, body)
    }

    private static func perform<T>(_ job: Job, queue: String, with tracer: some Tracer, _ body: () throws -> T) throws -> T {
        var context = InstrumentationContext.current ?? .topLevel
        if let carried = carrier(of: job) { tracer.extract(carried, into: &context, using: JobTraceCarrier()) }
        return try tracer.withSpan(performSpan, context: context, ofKind: .consumer) { span in
            describe(span, job)
            span.attributes["verk.queue"] = queue  // where it was fetched from, which may differ from its field
            if let retries = job.retryCount { span.attributes["verk.retry_count"] = retries }
            return try body()
        }
    }

    private static func describe(_ span: some Span, _ job: Job) {
        span.attributes["verk.class"] = job.className
        if let queue = job.queue { span.attributes["verk.queue"] = queue }
        if let jid = job.jid { span.attributes["verk.jid"] = jid }
    }

    /// The string members of the job's `trace_context`, if it has one.
    static func carrier(of job: Job) -> [String: String]? {
        guard let object = job[field]?.objectValue else { return nil }
        var carrier: [String: String] = [:]
        for member in object {
            if let value = member.value.stringValue { carrier[member.key] = value }
        }
        return carrier.isEmpty ? nil : carrier
    }
}

/// How a tracer writes and reads its keys in a job's `trace_context`.
struct JobTraceCarrier: Injector, Extractor {
    func inject(_ value: String, forKey key: String, into carrier: inout [String: String]) { carrier[key] = value }
    func extract(key: String, from carrier: [String: String]) -> String? { carrier[key] }
}
