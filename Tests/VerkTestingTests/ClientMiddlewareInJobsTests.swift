import Synchronization
import Testing
import VerkShared
import VerkTesting
@testable import VerkWorker

/// Stamps each job it sees with a `pushes` count (how many times a client middleware saw it).
struct Stamp: ClientMiddleware {
    func willPush(_ job: inout Job, at: Double?) throws -> Bool {
        job["pushes"] = .int((job["pushes"]?.intValue ?? 0) + 1)
        return true
    }
}

/// Skips audit jobs.
struct NoAudit: ClientMiddleware {
    func willPush(_ job: inout Job, at: Double?) throws -> Bool { job.className != "Audit::Log" }
}

/// Jobs enqueued by a running job take the client's push path in the job's process, with the app's client
/// middleware, before they reach the supervisor.
@Suite struct ClientMiddlewareInJobsTests {
    @Test func aJobEnqueuedByARunningJobIsPreparedAndStampedOnceBeforeItReachesTheSupervisor() throws {
        let token = Trail.newToken()
        let parent = RecordingEnqueuer()
        let runner = JobRunner(registry: try WorkerRegistry(testWorkers), queue: "mail", enqueuer: parent,
                               clientMiddleware: ClientMiddlewareChain([Stamp()]))
        #expect(runner.run(payload("SendEmail", [.object(["token": .string(token), "to": "ada@example.com"])], queue: "mail")) == .done)
        let sent = try #require(parent.jobs.first)
        #expect(parent.jobs.count == 1 && sent.at == nil)
        #expect(sent.job.className == "Audit::Log" && sent.job["pushes"] == 1)
        #expect(sent.job.jid?.count == 24 && sent.job.createdAt != nil && sent.job.queue == "default")
    }

    @Test func aScheduledEnqueueReachesTheSupervisorWithAnAbsoluteTime() throws {
        let parent = RecordingEnqueuer()
        let context = JobContext(job: Job(className: "A", args: []), queue: "default", enqueuer: parent)
        try context.enqueue(Job(className: "Record", args: []), at: 30)
        let at = try #require(parent.jobs.first?.at)
        #expect(abs(at - (Timestamp.now() + 30)) < 5)
    }

    @Test func aSkippedJobIsNotSentAndEnqueueSaysSo() throws {
        let token = Trail.newToken()
        let parent = RecordingEnqueuer()
        let runner = JobRunner(registry: try WorkerRegistry(testWorkers), queue: "mail", enqueuer: parent,
                               clientMiddleware: ClientMiddlewareChain([NoAudit()]))
        let result = runner.run(payload("SendEmail", [.object(["token": .string(token), "to": "ada@example.com"])], queue: "mail"))
        #expect(parent.jobs.isEmpty)
        #expect(result == .failed(JobFailure(errorClass: "VerkShared.VerkClientError", message: VerkClientError.skippedByMiddleware.description,
                                             backtrace: ["SendEmail.perform"])), "SendEmail does not catch it")
    }

    @Test func bothTestModesRunTheClientMiddlewareOnceForEachJobIncludingNestedOnes() throws {
        /// Writes how many times a client middleware stamped each job that runs.
        struct Pushes: ServerMiddleware {
            let token: String
            func call(_ job: Job, context: JobContext, next: (Job) throws -> Void) throws {
                Trail.add(token, "\(job.className) pushes=\(job["pushes"]?.intValue ?? 0)")
                try next(job)
            }
        }
        let (fakeToken, inlineToken) = (Trail.newToken(), Trail.newToken())
        let fake = try FakeEnqueuer(workers: testWorkers, middleware: [Pushes(token: fakeToken)], clientMiddleware: [Stamp()])
        try signUp("ada@example.com", token: Trail.newToken(), jobs: fake)
        #expect(fake.jobs.map { $0["pushes"] } == [1])
        try fake.drain()
        #expect(Trail.of(fakeToken) == ["SendEmail pushes=1", "Audit::Log pushes=1"])

        let inline = try InlineEnqueuer(workers: testWorkers, middleware: [Pushes(token: inlineToken)], clientMiddleware: [Stamp()])
        try signUp("ada@example.com", token: Trail.newToken(), jobs: inline)
        #expect(Trail.of(inlineToken) == ["SendEmail pushes=1", "Audit::Log pushes=1"])
    }

    @Test func inTheTestModesASkippedNestedJobFailsTheJobThatEnqueuedItAsInAWorkerProcess() throws {
        let token = Trail.newToken()
        let inline = try InlineEnqueuer(workers: testWorkers, clientMiddleware: [NoAudit()])
        #expect(throws: VerkClientError.skippedByMiddleware) { try signUp("cy@example.com", token: token, jobs: inline) }
        #expect(Trail.of(token) == ["sent cy@example.com"])
        #expect(throws: VerkClientError.skippedByMiddleware) { try inline.enqueue(AuditLog.self, [.string(token), "x"]) }
        #expect(Trail.of(token) == ["sent cy@example.com"], "a job a client middleware skips never runs")
    }
}
