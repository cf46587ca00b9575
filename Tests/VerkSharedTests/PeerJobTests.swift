import Testing
@testable import VerkShared

/// Jobs as Verk 1.7.3, Exq 0.23 and Sidekiq 8 write them (lines of shared/fixtures/peers), read and
/// rewritten by the pure rules. The integration tests run the fixture files themselves on a real node.
@Suite struct PeerJobTests {
    static let verkQueued = #"{"args":"[\"boom from verk m1\"]","class":"FailWorker","created_at":null,"enqueued_at":1795598006,"error_backtrace":null,"error_message":null,"failed_at":null,"finished_at":null,"jid":"3797663918217887418","max_retry_count":1,"queue":"default","retried_at":null,"retry_count":0}"#
    static let verkRetried = #"{"args":"[\"from verk\"]","class":"InteropFail","created_at":null,"enqueued_at":1795598014,"error_backtrace":"\n","error_message":"InteropFail: from verk","failed_at":1795598015,"finished_at":null,"jid":"14021394061560794720","max_retry_count":25,"queue":"verkonly","retried_at":null,"retry_count":1}"#
    static let verkScheduled = #"{"args":"[\"records.jsonl\",1000]","class":"RecordWorker","created_at":null,"enqueued_at":null,"error_backtrace":null,"error_message":null,"failed_at":null,"finished_at":null,"jid":"589934762984587251","max_retry_count":null,"queue":"default","retried_at":null,"retry_count":0}"#
    static let exqQueued = #"{"args":["boom from exq r1"],"class":"FailWorker","enqueued_at":1795598010.198514,"jid":"247d37fc-4706-4beb-9982-fc4e9841f51d","queue":"default","retry":1}"#
    static let exqRetried = #"{"args":["from ours"],"class":"InteropFail","enqueued_at":1795598025.7757316,"error_class":null,"error_message":"boom","failed_at":1795598026.38876,"finished_at":null,"jid":"38be3e4f93d322520a9f372f","processor":null,"queue":"exqonly","retried_at":1795598026.38876,"retry":true,"retry_count":1}"#
    static let sidekiq8 = #"{"retry":true,"queue":"default","class":"HardJob","args":[1,"two"],"jid":"5d9a3b1f0c2e4a6b8d7c9e01","created_at":1795598000123,"enqueued_at":1795598000125}"#
    static let ours = #"{"class":"A","args":[1],"queue":"default","retry":true,"jid":"0f3a9c2e71d84b56a1e0c4d9","created_at":1795598000.25,"enqueued_at":1795598000.5}"#

    let failure = JobFailure(errorClass: "RuntimeError", message: "boom")

    func job(_ text: String) throws -> Job { try Job(parsing: Array(text.utf8)) }

    // MARK: Timestamps

    @Test func aTimestampAtOrAbove1e11IsMilliseconds() {
        #expect(Timestamp.seconds(from: 1_795_598_000_123) == 1_795_598_000.123, "Sidekiq 8")
        #expect(Timestamp.seconds(from: 1_795_598_006) == 1_795_598_006, "Verk's integer seconds")
        #expect(Timestamp.seconds(from: 1_795_598_000.5) == 1_795_598_000.5, "float seconds")
        #expect(Timestamp.seconds(from: .double(1_795_598_000_123.5)) == 1_795_598_000.1235, "float milliseconds")
        #expect(Timestamp.seconds(from: .null) == nil && Timestamp.seconds(from: nil) == nil && Timestamp.seconds(from: "1795598000") == nil)
        #expect(Timestamp.format(of: 1_795_598_000_123) == .milliseconds)
        #expect(Timestamp.format(of: 1_795_598_006) == .wholeSeconds)
        #expect(Timestamp.format(of: 1_795_598_000.5) == .seconds)
        #expect(Timestamp.format(of: .null) == nil)
    }

    @Test func eachFormatIsWrittenAsItsWriterWritesIt() {
        #expect(JSONWriter.string(Timestamp.json(1_795_598_000.1239, as: .milliseconds)) == "1795598000123")
        #expect(JSONWriter.string(Timestamp.json(1_795_598_006.9, as: .wholeSeconds)) == "1795598006")
        #expect(JSONWriter.string(Timestamp.json(1_795_598_006, as: .seconds)) == "1795598006.0", "never an integer")
        #expect(Timestamp.json(1e300, as: .milliseconds).numberValue?.isInteger == false, "no trap on a time no integer holds")
        #expect(Timestamp.json(.nan, as: .wholeSeconds) == .null)
    }

    // MARK: Reading

    @Test func verksJobReadsAsWritten() throws {
        let job = try job(Self.verkQueued)
        #expect(job.dialect == .verk)
        #expect(job.args == ["boom from verk m1"], "the worker sees the array, not the string")
        #expect(job.retry == .limit(1), "max_retry_count is its limit")
        #expect(job.jid == "3797663918217887418")
        #expect(job.enqueuedAt == 1_795_598_006 && job.createdAt == nil && job.failedAt == nil)
        #expect(job.retryCount == 0 && job.sidekiqRetryCount == nil, "Verk's 0 is a first run")
        #expect(job.errorMessage == nil && job.errorClass == nil && job.backtraceLines == nil)
        #expect(job.encoded() == Array(Self.verkQueued.utf8), "read and re-encoded byte for byte")
        let scheduled = try self.job(Self.verkScheduled)
        #expect(scheduled.retry == .enabled, "a null max_retry_count is the configured maximum, as in Verk")
        #expect(scheduled.args == ["records.jsonl", 1000])
    }

    @Test func exqsAndSidekiq8sJobsReadAsWritten() throws {
        let exq = try job(Self.exqQueued)
        #expect(exq.dialect == .exq && exq.retry == .limit(1) && exq.jid == "247d37fc-4706-4beb-9982-fc4e9841f51d")
        #expect(try job(Self.exqRetried).dialect == .exq, "Exq's rewrite of a job of ours")
        #expect(try job(Self.exqRetried).sidekiqRetryCount == 0, "one failure so far")
        let s8 = try job(Self.sidekiq8)
        #expect(s8.dialect == .sidekiq && s8.timestampFormat == .milliseconds)
        #expect(s8.createdAt == 1_795_598_000.123 && s8.enqueuedAt == 1_795_598_000.125)
        #expect(try job(Self.ours).dialect == .sidekiq && job(Self.ours).timestampFormat == .seconds)
    }

    @Test func argsStayInTheFormTheJobHad() throws {
        var verk = try job(Self.verkQueued)
        verk.args = [1, "two"]
        #expect(verk["args"] == .string(#"[1,"two"]"#) && verk.args == [1, "two"])
        var ours = try job(Self.ours)
        ours.args = ["x"]
        #expect(ours["args"] == ["x"])
        #expect(try job(#"{"class":"A","args":{}}"#).args == [], "Lua's cjson writes [] as {}")
        #expect(try job(#"{"class":"A","args":"{}"}"#).args == [])
    }

    @Test func settingALimitOnAVerkJobSetsTheFieldVerkReads() throws {
        var verk = try job(Self.verkQueued)
        verk.retry = .limit(4)
        #expect(verk["max_retry_count"] == 4 && verk.retry == .limit(4))
        var normalized = try job(Self.verkQueued)
        JobPush.normalize(&normalized, now: 1)
        #expect(normalized["retry"] == nil && normalized.retry == .limit(1), "no Sidekiq default over Verk's limit")
    }

    // MARK: Rewriting a failure

    @Test func verksFirstFailureIsStoredAsVerkStoresIt() throws {
        var seen: Int?
        let out = RetryPolicy().outcome(for: try job(Self.verkQueued), failure: failure, fetchedFrom: "default", now: 1_795_600_000.75) {
            seen = $1
            return $0
        }
        #expect(seen == 0, "a worker's retryAt counts as Sidekiq does")
        #expect(out.destination == .retry(at: 1_795_600_000.75))
        let j = out.job
        #expect(j.retryCount == 1, "Verk: 1 after the first failure")
        #expect(j["failed_at"] == 1_795_600_000 && j["retried_at"] == .null, "integer seconds; retried_at only later")
        #expect(j["args"] == .string(#"["boom from verk m1"]"#) && j["max_retry_count"] == 1 && j["retry"] == nil)
        #expect(j["error_message"] == "boom" && j["enqueued_at"] == 1_795_598_006 && j["created_at"] == .null)
    }

    @Test func verksLimitOfOneRetriesOnceThenDies() throws {
        var j = try job(Self.verkQueued)
        var out = RetryPolicy().outcome(for: j, failure: failure, fetchedFrom: "default", now: 1000)
        #expect(out.destination != .dead)
        j = out.job
        out = RetryPolicy().outcome(for: j, failure: failure, fetchedFrom: "default", now: 2000)
        #expect(out.destination == .dead)
        #expect(out.job.retryCount == 2 && out.job["retried_at"] == 2000 && out.job["failed_at"] == 1000)
    }

    @Test func aRetryEntryVerkWroteFailsOnAsVerkCountsIt() throws {
        let out = RetryPolicy().outcome(for: try job(Self.verkRetried), failure: failure, fetchedFrom: "verkonly", now: 1_795_600_000.5)
        #expect(out.job.retryCount == 2 && out.job["retried_at"] == 1_795_600_000 && out.job["failed_at"] == 1_795_598_015)
        guard case .retry(let at) = out.destination else { Issue.record("expected a retry"); return }
        #expect((1_795_600_000.5 + 16...1_795_600_000.5 + 34).contains(at), "Sidekiq's backoff for its second failure")
    }

    @Test func exqsFailuresAreStoredAsExqStoresThem() throws {
        var out = RetryPolicy().outcome(for: try job(Self.exqQueued), failure: failure, fetchedFrom: "default", now: 1_795_600_000.5)
        #expect(out.destination != .dead)
        #expect(out.job.retryCount == 1 && out.job["failed_at"] == 1_795_600_000.5 && out.job["retried_at"] == 1_795_600_000.5)
        #expect(out.job["retry"] == 1 && out.job["args"] == ["boom from exq r1"])
        out = RetryPolicy().outcome(for: out.job, failure: failure, fetchedFrom: "default", now: 1_795_600_100.5)
        #expect(out.destination == .dead, "retry: 1 is one retry")
        #expect(out.job.retryCount == 2 && out.job["failed_at"] == 1_795_600_000.5 && out.job["retried_at"] == 1_795_600_100.5)
        var noRetry = try job(Self.exqQueued)
        noRetry["retry"] = false
        #expect(RetryPolicy().outcome(for: noRetry, failure: failure, fetchedFrom: "default").destination == .dead,
                "Exq puts a job without retries in its dead set")
    }

    @Test func sidekiq8sJobIsStampedInMillisecondsAndRetriedOnTime() throws {
        let now = 1_795_600_000.25
        let out = RetryPolicy().outcome(for: try job(Self.sidekiq8), failure: failure, fetchedFrom: "default", now: now)
        #expect(out.job.retryCount == 0 && out.job["failed_at"] == 1_795_600_000_250 && out.job["retried_at"] == nil)
        guard case .retry(let at) = out.destination else { Issue.record("expected a retry"); return }
        #expect((now + 15...now + 24).contains(at))
        let second = RetryPolicy().outcome(for: out.job, failure: failure, fetchedFrom: "default", now: now + 30)
        #expect(second.job.retryCount == 1 && second.job["retried_at"] == 1_795_600_030_250)
    }

    @Test func aJobWithoutTimestampsGetsTheConfiguredForm() throws {
        let bare = try job(#"{"class":"A","args":[]}"#)
        let ms = RetryPolicy(timestamps: .milliseconds).outcome(for: bare, failure: failure, fetchedFrom: "q", now: 1_795_600_000.5)
        #expect(ms.job["failed_at"] == 1_795_600_000_500)
        let ours = RetryPolicy(timestamps: .milliseconds).outcome(for: try job(Self.ours), failure: failure, fetchedFrom: "q", now: 1_795_600_000.5)
        #expect(ours.job["failed_at"] == 1_795_600_000.5, "a job keeps the form it came with")
    }

    @Test func thePushWritesTheConfiguredForm() throws {
        var job = Job(className: "A", args: [])
        JobPush.normalize(&job, now: 1_795_600_000.5, timestamps: .milliseconds)
        #expect(job["created_at"] == 1_795_600_000_500)
        let push = JobPush(keys: KeySpace(), timestamps: .milliseconds)
        let lpush = try #require(push.commands(for: [(job, nil), (try self.job(Self.ours), nil)], now: 1_795_600_001).last)
        let pushed = try lpush.arguments.dropFirst(2).map { try Job(parsing: Array($0)) }
        #expect(pushed.map { $0["enqueued_at"] } == [1_795_600_001_000, 1_795_600_001.0])
        var seconds = Job(className: "A", args: [])
        JobPush.normalize(&seconds, now: 1_795_600_000, timestamps: .seconds)
        #expect(seconds["created_at"] == 1_795_600_000.0 && seconds["created_at"]?.numberValue?.isInteger == false)
    }

    @Test func anUnparsableMembersJidIsStillShown() {
        let entries = JobSet.entries(from: [.bulk(Array(#"{"jid":"abc","class":null}"#.utf8)), .bulk(Array("1.5".utf8)),
                                            .bulk(Array(Self.verkRetried.utf8)), .bulk(Array("2".utf8))])
        #expect(entries.map(\.jid) == ["abc", "14021394061560794720"])
        #expect(entries[0].job == nil && entries[1].job?.className == "InteropFail")
    }
}
