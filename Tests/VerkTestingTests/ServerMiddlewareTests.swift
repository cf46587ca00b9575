import Synchronization
import Testing
import VerkShared
import VerkTesting
@testable import VerkWorker

/// Appends a value to the job's args before passing it on.
struct AppendArg: ServerMiddleware {
    let value: JSONValue
    func call(_ job: Job, context: JobContext, next: (Job) throws -> Void) throws {
        var job = job
        job.args.append(value)
        try next(job)
    }
}

/// Passes on only jobs whose args do not contain "skip".
struct SkipMarked: ServerMiddleware {
    func call(_ job: Job, context: JobContext, next: (Job) throws -> Void) throws {
        if job.args.contains("skip") { return }
        try next(job)
    }
}

/// Refuses jobs without a `tenant` field, the way an app would.
struct RequireTenant: ServerMiddleware {
    func call(_ job: Job, context: JobContext, next: (Job) throws -> Void) throws {
        guard job["tenant"] != nil else { throw MiddlewareRejection("job \(context.jid) has no tenant") }
        try next(job)
    }
}

/// Fails every job with an app error.
struct QuotaExceeded: Error {}
struct Quota: ServerMiddleware {
    func call(_ job: Job, context: JobContext, next: (Job) throws -> Void) throws { throw QuotaExceeded() }
}

/// Writes "name>" before and "<name" after the rest of the chain, under the job's token.
struct Around: ServerMiddleware {
    let name: String
    func call(_ job: Job, context: JobContext, next: (Job) throws -> Void) throws {
        let token = job.args.first?.stringValue ?? ""
        Trail.add(token, "\(name)>")
        try next(job)
        Trail.add(token, "<\(name)")
    }
}

/// The worker-process path: a payload in, a result for the supervisor out.
@Suite struct ServerMiddlewareTests {
    func runner(_ middleware: [any ServerMiddleware]) throws -> JobRunner {
        JobRunner(registry: try WorkerRegistry(testWorkers), queue: "default", enqueuer: RecordingEnqueuer(),
                  middleware: ServerMiddlewareChain(middleware))
    }

    @Test func aMiddlewareCanChangeTheArgsTheWorkerGets() throws {
        let token = Trail.newToken()
        let result = try runner([AppendArg(value: "added")]).run(payload("Record", [.string(token), "given"]))
        #expect(result == .done)
        #expect(Trail.of(token) == ["record given,added queue=default"])
    }

    @Test func theWorkerDecodesItsArgumentsAfterTheMiddlewareSoAMiddlewareCanFixThem() throws {
        let token = Trail.newToken()
        struct Upgrade: ServerMiddleware {  // an old client sent [token, to]; the worker now takes an object
            func call(_ job: Job, context: JobContext, next: (Job) throws -> Void) throws {
                var job = job
                if job.args.count == 2 { job.args = [.object(["token": job.args[0], "to": job.args[1]])] }
                try next(job)
            }
        }
        let old = payload("SendEmail", [.string(token), "ada@example.com"])
        guard case .failed(let failure) = try runner([]).run(old) else { Issue.record("expected a failure"); return }
        #expect(failure.errorClass == "Verk.InvalidArguments")
        #expect(try runner([Upgrade()]).run(old) == .done)
        #expect(Trail.of(token) == ["sent ada@example.com"])
    }

    @Test func aMiddlewareThatDoesNotCallNextSkipsTheJobAndItCountsAsDone() throws {
        let token = Trail.newToken()
        #expect(try runner([SkipMarked()]).run(payload("Record", [.string(token), "skip"])) == .done)
        #expect(try runner([SkipMarked()]).run(payload("Fail", [.string(token), "skip"])) == .done)
        #expect(Trail.of(token).isEmpty)
    }

    @Test func aRejectionFailsTheJobAsMiddlewareRejectedWithItsReason() throws {
        let token = Trail.newToken()
        var job = Job(className: "Record", args: [.string(token)])
        job.jid = "0123456789abcdef01234567"
        let result = try runner([RequireTenant()]).run(job.encoded())
        #expect(result == .failed(JobFailure(errorClass: "Verk.MiddlewareRejected", message: "job 0123456789abcdef01234567 has no tenant")))
        job["tenant"] = "acme"
        #expect(try runner([RequireTenant()]).run(job.encoded()) == .done)
        #expect(Trail.of(token) == ["record  queue=default"])
    }

    @Test func anyOtherErrorFailsTheJobWithItsTypeAsErrorClass() throws {
        let token = Trail.newToken()
        guard case .failed(let failure) = try runner([Quota()]).run(payload("Record", [.string(token)])) else {
            Issue.record("expected a failure")
            return
        }
        #expect(failure.errorClass == "VerkTestingTests.QuotaExceeded")
        #expect(Trail.of(token).isEmpty, "the worker did not run")
    }

    @Test func middlewareRunsInOrderTheFirstOutermostAndEachSeesTheJobAsChanged() throws {
        let token = Trail.newToken()
        let chain: [any ServerMiddleware] = [Around(name: "a"), AppendArg(value: "x"), Around(name: "b")]
        #expect(try runner(chain).run(payload("Record", [.string(token)])) == .done)
        #expect(Trail.of(token) == ["a>", "b>", "record x queue=default", "<b", "<a"])
    }

    @Test func theNodesChainPutsTheJobLogLineOutsideTheAppsMiddleware() {
        let chain = ServerMiddlewareChain(jobLogLevel: .info, app: [SkipMarked()])
        #expect(chain.middlewares.count == 2)
        #expect((chain.middlewares.first as? JobLoggingMiddleware)?.level == .info)
        #expect(ServerMiddlewareChain(jobLogLevel: nil, app: [SkipMarked()]).middlewares.count == 1)
    }

    @Test func bothTestModesRunTheSameChain() throws {
        let token = Trail.newToken()
        let inline = try InlineEnqueuer(workers: testWorkers, middleware: [Around(name: "m"), SkipMarked()])
        try inline.enqueue(Job(className: "Record", args: [.string(token), "one"]))
        try inline.enqueue(Job(className: "Record", args: [.string(token), "skip"]))
        #expect(throws: MiddlewareRejection.self) {
            try InlineEnqueuer(workers: testWorkers, middleware: [RequireTenant()]).enqueue(Job(className: "Record", args: [.string(token)]))
        }
        let fake = try FakeEnqueuer(workers: testWorkers, middleware: [AppendArg(value: "two")])
        try fake.enqueue(Job(className: "Record", args: [.string(token)]))
        #expect(fake.jobs.first?.args == [.string(token)], "server middleware runs when the job runs, not when it is enqueued")
        try fake.drain()
        #expect(Trail.of(token) == ["m>", "record one queue=default", "<m", "m>", "<m", "record two queue=default"])
    }
}
