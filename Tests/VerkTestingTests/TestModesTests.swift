import Testing
import VerkShared
import VerkTesting
import VerkWorker

@Suite struct InlineModeTests {
    @Test func aJobAndTheJobsItEnqueuesHaveRunWhenEnqueueReturns() throws {
        let token = Trail.newToken()
        let jobs = try InlineEnqueuer(workers: testWorkers)
        try signUp("ada@example.com", token: token, jobs: jobs)
        #expect(Trail.of(token) == ["sent ada@example.com", "audit sent ada@example.com"])
    }

    @Test func scheduledJobsRunAtOnce() throws {
        let token = Trail.newToken()
        let jobs = try InlineEnqueuer(workers: testWorkers)
        try jobs.enqueue(Job(className: "Record", args: [.string(token), "later"], queue: "slow"), at: 3600)
        #expect(Trail.of(token) == ["record later queue=slow"])
    }

    @Test func aFailingJobThrowsItsOwnErrorToTheCaller() throws {
        let token = Trail.newToken()
        let jobs = try InlineEnqueuer(workers: testWorkers)
        #expect(throws: Fail.Boom(description: "no mail server")) {
            try jobs.enqueue(Job(className: "Fail", args: [.string(token), "no mail server"]))
        }
        #expect(Trail.of(token) == ["fail"])
        #expect(throws: JobExecutionError.self) { try jobs.enqueue(Job(className: "Nope", args: [])) }
        #expect(throws: JobExecutionError.self) { try jobs.enqueue(Job(className: "SendEmail", args: [1, 2, 3])) }
    }

    @Test func duplicateClassNamesAreRefusedAsVerkMainRefusesThem() {
        #expect(throws: RegistryError.self) { try InlineEnqueuer(workers: [Record.self, Record.self]) }
    }
}

@Suite struct FakeModeTests {
    @Test func jobsAreKeptPerQueueWithTheirTypedArgumentsAndNothingRuns() throws {
        let token = Trail.newToken()
        let jobs = try FakeEnqueuer(workers: testWorkers)
        try signUp("ada@example.com", token: token, jobs: jobs)
        try jobs.enqueue(Job(className: "Record", args: [.string(token)]), at: 3600)
        #expect(jobs.count == 2)
        #expect(try jobs.jobs(of: SendEmail.self) == [SendEmail.Arguments(token: token, to: "ada@example.com")])
        #expect(jobs.jobs(in: "mail").map(\.className) == ["SendEmail"])
        #expect(jobs.jobs(in: "mail").first?.jid?.count == 24, "normalised as the client does")
        let scheduled = try #require(jobs.jobs(in: "default").first)
        #expect((scheduled["at"]?.doubleValue ?? 0) > Timestamp.now() + 3500, "a scheduled job keeps its time in 'at'")
        #expect(Trail.of(token).isEmpty)
    }

    @Test func drainRunsTheJobsAndTheJobsTheyEnqueueUntilNoneIsLeft() throws {
        let token = Trail.newToken()
        let jobs = try FakeEnqueuer(workers: testWorkers)
        try signUp("ada@example.com", token: token, jobs: jobs)
        try signUp("bob@example.com", token: token, jobs: jobs)
        #expect(try jobs.drain() == 4)
        #expect(Trail.of(token) == ["sent ada@example.com", "sent bob@example.com",
                                    "audit sent ada@example.com", "audit sent bob@example.com"])
        #expect(jobs.count == 0)
    }

    @Test func aFailingJobIsTakenOutAndThrownAndTheRestStay() throws {
        let token = Trail.newToken()
        let jobs = try FakeEnqueuer(workers: testWorkers)
        try jobs.enqueue(Job(className: "Fail", args: [.string(token), "down"]))
        try jobs.enqueue(Job(className: "Record", args: [.string(token), "after"]))
        #expect(throws: Fail.Boom(description: "down")) { try jobs.drain() }
        #expect(jobs.jobs.map(\.className) == ["Record"])
        #expect(try jobs.drain() == 1)
        #expect(Trail.of(token) == ["fail", "record after queue=default"])
    }

    @Test func clearForgetsEveryJob() throws {
        let jobs = try FakeEnqueuer(workers: testWorkers)
        try signUp("ada@example.com", token: Trail.newToken(), jobs: jobs)
        jobs.clear()
        #expect(jobs.count == 0 && jobs.jobs(in: "mail").isEmpty)
        #expect(try jobs.drain() == 0)
    }

    @Test func aJobThatEnqueuesItselfForeverStopsTheDrainInsteadOfHangingTheTest() throws {
        let jobs = try FakeEnqueuer(workers: testWorkers)
        try jobs.enqueue(Job(className: "Forever", args: ["t", 0]))
        #expect(throws: FakeEnqueuerError.drainLimit(50)) { try jobs.drain(limit: 50) }
        #expect(jobs.jobs.first?.args.last == 50, "the next job is kept")
    }

    @Test func typedArgumentsThatDoNotDecodeSayWhich() throws {
        let jobs = try FakeEnqueuer(workers: testWorkers)
        try jobs.enqueue(Job(className: "SendEmail", args: ["not", "an", "email"], queue: "mail"))
        #expect(throws: JobExecutionError.self) { try jobs.jobs(of: SendEmail.self) }
    }
}
