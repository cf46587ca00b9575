import Foundation
import InMemoryTracing
import Synchronization
import Testing
import Tracing
@testable import VerkShared
import VerkWorker

/// A job's push and perform are spans of one trace, carried in the job's `trace_context`; without a tracer
/// the job is exactly what Sidekiq's client writes. Each test scopes its tracer with `withTracer` (a task-local
/// override): `InstrumentationSystem.bootstrap` could run only once in this test process.
@Suite struct JobTracingTests {
    /// Runs a job; `["enqueue"]` makes it push a `Traced` job of its own through its context, `["fail"]` throws.
    struct Traced: Worker {
        struct Failure: Error {}
        func perform(_ args: [JSONValue], context: JobContext) throws {
            if args.first == "fail" { throw Failure() }
            if args.first == "enqueue" { try context.enqueue(Job(className: "Traced", args: [])) }
        }
    }

    /// What a running job enqueued, as the supervisor would receive it.
    final class Collector: JobEnqueuer {
        let jobs = Mutex<[Job]>([])
        func enqueue(_ job: Job, at: Double?) throws -> String {
            jobs.withLock { $0.append(job) }
            return job.jid ?? ""
        }
    }

    func pushed(_ job: Job) throws -> Job {
        try #require(JobPush.prepare([job], at: nil, middleware: ClientMiddlewareChain()).first).job
    }

    /// Runs a pushed job as a worker process does: from the bytes Redis holds.
    func run(_ job: Job, enqueuer: any JobEnqueuer = Collector()) throws -> JobRunner.Result {
        try JobRunner(registry: WorkerRegistry([Traced.self]), queue: "default", enqueuer: enqueuer).run(job.encoded())
    }

    func span(_ name: String, of tracer: InMemoryTracer) throws -> FinishedInMemorySpan {
        try #require(tracer.finishedSpans.first { $0.operationName == name }, "no \(name) span")
    }

    @Test func thePerformSpanIsAChildOfThePushSpanThroughTheJob() throws {
        let tracer = InMemoryTracer()
        let job = try withTracer(tracer) { () throws -> Job in try pushed(Job(className: "Traced", args: [], queue: "mail")) }
        let carried = try #require(job[JobTracing.field]?.objectValue, "the job carries the push span's context")
        #expect(Set(carried.keys) == [InMemoryTracer.traceIDKey, InMemoryTracer.spanIDKey])
        #expect(try withTracer(tracer) { () throws -> JobRunner.Result in try run(job) } == .done)

        let push = try span(JobTracing.pushSpan, of: tracer), perform = try span(JobTracing.performSpan, of: tracer)
        #expect(push.kind == .producer && perform.kind == .consumer)
        #expect(perform.traceID == push.traceID)
        #expect(perform.parentSpanID == push.spanID)
        #expect(push.attributes["verk.class"]?.toSpanAttribute() == "Traced")
        #expect(push.attributes["verk.jid"]?.toSpanAttribute() == job.jid.map { SpanAttribute.string($0) })
        #expect(perform.attributes["verk.queue"]?.toSpanAttribute() == "default", "the queue it ran from")
        #expect(perform.errors.isEmpty)
    }

    @Test func aJobEnqueuedByARunningJobIsAChildOfThatJobsPerformSpan() throws {
        let tracer = InMemoryTracer()
        let collector = Collector()
        let result = try withTracer(tracer) { () throws -> JobRunner.Result in
            try run(try pushed(Job(className: "Traced", args: ["enqueue"])), enqueuer: collector)
        }
        #expect(result == .done)
        let perform = try span(JobTracing.performSpan, of: tracer)
        let pushes = tracer.finishedSpans.filter { $0.operationName == JobTracing.pushSpan }
        let inner = try #require(pushes.first { $0.parentSpanID == perform.spanID }, "the running job's push is under its perform span")
        #expect(inner.traceID == perform.traceID)
        let enqueued = try #require(collector.jobs.withLock { $0.first })
        #expect(enqueued[JobTracing.field]?[InMemoryTracer.spanIDKey]?.stringValue == inner.spanID)
    }

    @Test func aFailingJobsPerformSpanRecordsTheError() throws {
        let tracer = InMemoryTracer()
        let result = try withTracer(tracer) { () throws -> JobRunner.Result in try run(try pushed(Job(className: "Traced", args: ["fail"]))) }
        guard case .failed = result else { Issue.record("the job should fail, got \(result)"); return }
        let perform = try span(JobTracing.performSpan, of: tracer)
        #expect(perform.errors.count == 1 && perform.errors.first?.error is Traced.Failure)
        #expect(perform.status?.code == .error)
    }

    @Test func aJobFromAnotherClientStartsATraceOfItsOwn() throws {
        let tracer = InMemoryTracer()
        let fromRuby = try Job(parsing: Array(#"{"class":"Traced","args":[],"jid":"0123456789abcdef01234567","queue":"default"}"#.utf8))
        #expect(try withTracer(tracer) { () throws -> JobRunner.Result in try run(fromRuby) } == .done)
        let perform = try span(JobTracing.performSpan, of: tracer)
        #expect(perform.parentSpanID == nil)
    }

    /// The no-op tracer (nothing bootstrapped) adds no field: Sidekiq's byte-for-byte interop is untouched.
    @Test func withoutATracerAPushAddsNothingToTheJob() throws {
        #expect(JobTracing.activeTracer == nil, "this test process bootstraps no tracer")
        let job = try pushed(Job(className: "Traced", args: [.int(1)]))
        #expect(Set(job.fields.keys) == ["class", "args", "queue", "retry", "jid", "created_at"])
        #expect(try run(job) == .done)
    }
}
