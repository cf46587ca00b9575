import Testing
@testable import VerkShared

@Suite struct RetryPolicyTests {
    let failure = JobFailure(errorClass: "RuntimeError", message: "boom", backtrace: ["a.swift:1", "b.swift:2"])

    func job(_ extra: JSONObject = [:]) throws -> Job {
        var j = Job(className: "HardJob", args: [1], queue: "default")
        j.jid = "0f3a9c2e71d84b56a1e0c4d9"
        for m in extra { j[m.key] = m.value }
        return j
    }

    @Test func firstFailureSetsFailedAtAndRetryCountZero() throws {
        let out = RetryPolicy().outcome(for: try job(), failure: failure, fetchedFrom: "default", now: 1000)
        #expect(out.job.retryCount == 0)
        #expect(out.job.failedAt == 1000 && out.job.retriedAt == nil)
        #expect(out.job.errorClass == "RuntimeError" && out.job.errorMessage == "boom")
        guard case .retry(let at) = out.destination else { Issue.record("expected retry"); return }
        #expect((1015...1024).contains(at), "count 0 waits 15–24 s")
    }

    @Test func laterFailuresSetRetriedAtAndCount() throws {
        let out = RetryPolicy().outcome(for: try job(["retry_count": 3, "failed_at": 1.5]), failure: failure, fetchedFrom: "q", now: 2000)
        #expect(out.job.retryCount == 4 && out.job.retriedAt == 2000 && out.job.failedAt == 1.5)
        guard case .retry(let at) = out.destination else { Issue.record("expected retry"); return }
        #expect((2000 + 271...2000 + 316).contains(at))
    }

    @Test func integerRetryLimitAndDefaultMax() throws {
        // retry: 2 → failures 1 and 2 retry, the 3rd goes dead.
        #expect(RetryPolicy().outcome(for: try job(["retry": 2, "retry_count": 0]), failure: failure, fetchedFrom: "q").destination != .dead)
        #expect(RetryPolicy().outcome(for: try job(["retry": 2, "retry_count": 1]), failure: failure, fetchedFrom: "q").destination == .dead)
        #expect(RetryPolicy().outcome(for: try job(["retry_count": 24]), failure: failure, fetchedFrom: "q").destination == .dead)
        #expect(RetryPolicy().outcome(for: try job(["retry_count": 23]), failure: failure, fetchedFrom: "q").destination != .dead)
        #expect(RetryPolicy(maxRetries: 1).outcome(for: try job(["retry_count": 0]), failure: failure, fetchedFrom: "q").destination == .dead)
    }

    @Test func retryZeroIsDeadFalseIsDiscardedAndNullIsTheDefault() throws {
        #expect(RetryPolicy().outcome(for: try job(["retry": 0]), failure: failure, fetchedFrom: "q").destination == .dead)
        #expect(RetryPolicy().outcome(for: try job(["retry": false]), failure: failure, fetchedFrom: "q").destination == .discard)
        // Sidekiq 6.4 gives a nil `retry` the worker's option (true by default): 25 retries, not a discard.
        guard case .retry = RetryPolicy().outcome(for: try job(["retry": .null]), failure: failure, fetchedFrom: "q").destination else {
            Issue.record("a job with retry: null must be retried"); return
        }
        #expect(RetryPolicy().outcome(for: try job(["retry": .null, "retry_count": 24]), failure: failure, fetchedFrom: "q").destination == .dead)
        #expect(RetryPolicy().outcome(for: try job(["retry": 0, "dead": false]), failure: failure, fetchedFrom: "q").destination == .discard)
    }

    @Test func retryQueueAndBacktraceOption() throws {
        let out = RetryPolicy().outcome(for: try job(["retry_queue": "slow", "backtrace": 1]), failure: failure, fetchedFrom: "default")
        #expect(out.job.queue == "slow")
        let encoded = try #require(out.job["error_backtrace"]?.stringValue)
        #expect(Backtrace.decode(encoded) == ["a.swift:1"])
        let none = RetryPolicy().outcome(for: try job(), failure: failure, fetchedFrom: "default")
        #expect(none.job["error_backtrace"] == nil)
        let empty = RetryPolicy().outcome(for: try job(["retry_queue": ""]), failure: failure, fetchedFrom: "default")
        #expect(empty.job.queue == "default", "an empty retry_queue names no queue: the retry goes where the job came from")
    }

    /// Sidekiq's Web and API find a retry or dead entry by its jid: a job pushed without one gets one.
    @Test func aJobWithoutAJidGetsOneWhenItFails() throws {
        for jid in [nil, JSONValue.string("")] {
            var bare = try job()
            bare["jid"] = jid
            #expect(RetryPolicy().outcome(for: bare, failure: failure, fetchedFrom: "q").job.jid?.count == 24)
        }
        #expect(RetryPolicy().outcome(for: try job(), failure: failure, fetchedFrom: "q").job.jid == "0f3a9c2e71d84b56a1e0c4d9")
    }

    @Test func unknownFieldsSurviveTheRewrite() throws {
        let out = RetryPolicy().outcome(for: try job(["bid": "b1", "custom": ["x": []]]), failure: failure, fetchedFrom: "q")
        #expect(out.job["bid"] == "b1")
        #expect(out.job["custom"] == ["x": []])
    }

    @Test func customDelayReplacesTheBase() {
        #expect(Backoff.sidekiqDelay(count: 0, jitter: 0) == 15)
        #expect(Backoff.sidekiqDelay(count: 2, jitter: 9) == 16 + 15 + 27)
        #expect(Backoff.sidekiqDelay(count: 3, custom: 5, jitter: 1) == 5 + 4)
    }

    @Test func errorMessageIsCut() throws {
        let long = JobFailure(errorClass: "E", message: String(repeating: "x", count: 20_000))
        #expect(RetryPolicy().outcome(for: try job(), failure: long, fetchedFrom: "q").job.errorMessage?.count == 10_000)
    }
}

@Suite struct JobTests {
    @Test func timestampsReadMillisecondsAndSecondsByMagnitude() throws {
        let job = try Job(parsing: Array(#"{"class":"A","args":[],"created_at":1763884800123,"enqueued_at":1763884800.5,"failed_at":1763884801}"#.utf8))
        #expect(job.createdAt == 1_763_884_800.123)
        #expect(job.enqueuedAt == 1_763_884_800.5)
        #expect(job.failedAt == 1_763_884_801, "Verk's integer seconds")
    }

    @Test(arguments: [#"[1]"#, #"{"args":[]}"#, #"{"class":"A"}"#, #"{"class":"A","args":"[1"}"#, #"{"class":"A","args":"{\"a\":1}"}"#,
                      #"{"class":"A","args":{"a":1}}"#, #"{"class":"A","args":null}"#, #"{"class":"","args":[]}"#, "not json"])
    func badPayloadsAreRejectedWithAReason(_ text: String) {
        #expect(throws: JobDecodingError.self) { try Job(parsing: Array(text.utf8)) }
    }

    @Test func retrySettingFollowsSidekiq() {
        #expect(RetrySetting(json: .bool(true)) == .enabled)
        #expect(RetrySetting(json: nil) == .enabled, "absent: the worker's default applies")
        #expect(RetrySetting(json: .null) == .enabled, "null: Sidekiq 6.4 applies the worker's option, true by default")
        #expect(RetrySetting(json: .bool(false)) == .disabled)
        #expect(RetrySetting(json: 5) == .limit(5))
        #expect(RetrySetting(json: "yes") == .enabled)
    }

    /// Sidekiq's client (job_util.rb) refuses a job whose queue is empty or null, and fills `default` only
    /// when `queue` is absent: a push never reaches a `queue:` list that nothing serves.
    @Test func aQueueThatNamesNoQueueIsRefusedAtPush() throws {
        #expect(try Job(parsing: Array(#"{"class":"A","args":[]}"#.utf8)).pushQueue() == "default")
        for (queue, what) in [(JSONValue.string(""), "an empty string"), (.null, "null"), (5, "a number")] {
            var job = Job(className: "A", args: [])
            job["queue"] = queue
            #expect(throws: JobDecodingError.invalidQueue(what)) { try job.pushQueue() }
            #expect(throws: JobDecodingError.invalidQueue(what)) { try JobPush.prepare([job], at: 60, middleware: ClientMiddlewareChain()) }
        }
        struct EmptyQueue: ClientMiddleware {
            func willPush(_ job: inout Job, at: Double?) throws -> Bool { job.queue = ""; return true }
        }
        let refused = #expect(throws: JobDecodingError.self) {
            try JobPush.prepare([Job(className: "A", args: [])], at: 60, middleware: ClientMiddlewareChain([EmptyQueue()]))
        }
        #expect(refused?.description.contains("give it a queue") == true)
        var absent = Job(className: "A", args: [])
        absent["queue"] = nil
        #expect(try JobPush.prepare([absent], at: nil, middleware: ClientMiddlewareChain()).first?.job.queue == "default")
    }

    @Test func jidsAre24LowercaseHex() {
        let jid = JobID.generate()
        #expect(jid.count == 24 && jid.allSatisfy { "0123456789abcdef".contains($0) })
    }

    @Test func pushNormalizesAndSchedulesLikeSidekiq() {
        var job = Job(className: "A", args: [])
        job["retry"] = nil
        JobPush.normalize(&job, now: 100)
        #expect(job.jid?.count == 24 && job.createdAt == 100 && job["retry"] == .bool(true))
        #expect(JobPush.scheduleTime(30, now: 1_800_000_000) == 1_800_000_030)
        #expect(JobPush.scheduleTime(1_700_000_000, now: 1_800_000_000) == nil, "a past time runs now")
        let cmds = JobPush(keys: KeySpace(namespace: "ns")).commands(for: [(job, nil), (job, nil), (job, 1_900_000_000)], now: 5)
        #expect(cmds.map(\.name) == ["SADD", "LPUSH", "ZADD"])
        #expect(cmds[1].arguments.count == 4, "one LPUSH carries both jobs of the queue")
        #expect(String(decoding: cmds[1].arguments[1], as: UTF8.self) == "ns:queue:default")
    }
}

@Suite struct BacktraceTests {
    @Test func encodesAsBase64OfZlibOfJSON() {
        let lines = (0..<200).map { "frame \($0) in Worker.swift" }
        let encoded = Backtrace.encode(lines)
        #expect(encoded.hasPrefix("eA"), "zlib header 0x78")
        #expect(Backtrace.decode(encoded) == lines)
    }
}

@Suite struct CustomRetryAtTests {
    @Test func workerRetryAtSetsTheExactTime() throws {
        var job = Job(className: "W", args: [])
        job.retryCount = 1
        let out = RetryPolicy().outcome(for: job, failure: JobFailure(errorClass: "E", message: "m"), fetchedFrom: "q", now: 100) { failedAt, count in
            failedAt + Double(count)
        }
        #expect(out.destination == .retry(at: 102))
    }
}

@Suite struct RestartPolicyTests {
    @Test func firstRestartIsImmediateThenBacksOffExponentiallyToTheCap() {
        let p = RestartPolicy()
        #expect(p.decide(recentRestarts: [], now: 1000).delay == 0)
        #expect(p.decide(recentRestarts: [999], now: 1000).delay == 0.1)
        #expect(p.decide(recentRestarts: [998, 999], now: 1000).delay == 0.2)
        #expect(p.decide(recentRestarts: Array(repeating: 999, count: 9), now: 1000).delay == 10)
    }

    @Test func tooManyRestartsInThePeriodMarkTheQueueFailing() {
        let p = RestartPolicy()
        let d = p.decide(recentRestarts: Array(repeating: 990, count: 10), now: 1000)
        #expect(d.failing && d.delay == 30)
        #expect(!p.decide(recentRestarts: Array(repeating: 900, count: 10), now: 1000).failing, "old restarts fall out of the period")
    }
}

@Suite struct NonRetryableFailureTests {
    @Test func aFailureThatCannotSucceedGoesToDeadAtOnce() {
        let failure = JobFailure(errorClass: "Verk.PayloadTooLarge", message: "too big", retryable: false)
        #expect(RetryPolicy().outcome(for: Job(className: "A", args: []), failure: failure, fetchedFrom: "q").destination == .dead)
        var noRetry = Job(className: "A", args: [])
        noRetry.retry = .disabled
        #expect(RetryPolicy().outcome(for: noRetry, failure: failure, fetchedFrom: "q").destination == .discard)
    }
}
