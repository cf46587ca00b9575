import Foundation
import Testing
import VerkShared
@testable import VerkSupervisor

@Suite struct RestartHistoryTests {
    @Test func deathsBackOffThenTheQueueBecomesFailingOnceAndRecoversAfterThePeriod() {
        var history = RestartHistory(policy: RestartPolicy())
        #expect(history.recordDeath(at: 1000) == .init(delay: 0, becameFailing: false))

        #expect(history.recordDeath(at: 1001).delay == 0.1)
        #expect(history.recordDeath(at: 1002).delay == 0.2)
        var steps: [RestartHistory.Step] = []
        for t in 3..<12 { steps.append(history.recordDeath(at: 1000 + Double(t))) }
        #expect(steps.filter(\.becameFailing).count == 1, "failing is reported once")
        #expect(history.isFailing && steps.last?.delay == 30)
        #expect(history.recordDeath(at: 1100) == .init(delay: 0, becameFailing: false), "a minute later the old deaths no longer count")
        #expect(!history.isFailing && history.recentRestarts == [1100])
    }
}

@Suite struct SettlementBatchTests {
    let target = SettlementFixture.target
    let job = SettlementFixture.job

    @Test func repliesAreReadBackByNamedRangesEvenWithAnErrorInTheMiddle() {
        var batch = SettlementBatch()
        batch.ack(Array("a1".utf8))
        batch.ack(Array("a2".utf8))
        batch.fail(job, JobFailure(errorClass: "E", message: "boom"))
        batch.requeue([Array("r1".utf8)])
        batch.enqueue(request: 7, at: 0, payload: job)
        batch.enqueue(request: 8, at: 0, payload: Array("not json".utf8))
        let fetch = ReliableFetch.items(source: "a", destination: "b", count: 1_500)
        let plan = batch.plan(to: target, fetch: fetch, flushStats: true, now: 1_700_000_000)
        let l = plan.layout
        #expect(l.acks == 0..<2 && l.failures == 2..<3 && l.requeue == 3..<4)
        #expect(l.enqueues.map(\.request) == [7] && l.refusedEnqueues.map(\.request) == [8])
        #expect(l.enqueues[0].replies == 4..<6, "SADD queues + LPUSH")
        #expect(l.stats.count == 18, "processed and failed: totals, daily keys, the per-queue hash, Exq's realtime counters, Sidekiq 7's class metrics")
        #expect(l.fetch == l.stats.upperBound..<plan.items.count && l.fetch.count == 2, "1,500 jobs: two fetch_jobs calls of at most 1,000")
        var replies = [RedisReply](repeating: .integer(1), count: plan.items.count)
        replies[l.failures.lowerBound] = .error("NOSCRIPT busy")   // the failure move was refused
        replies[l.enqueues[0].replies.upperBound - 1] = .error("OOM")
        replies[l.fetch.lowerBound] = .array([.bulk(job)])
        replies[l.fetch.lowerBound + 1] = .array([])
        let settled = batch.settle(plan, replies: replies)
        #expect(settled.recordedFailures.isEmpty, "a refused move is not reported as recorded")
        #expect(settled.enqueueResults.map(\.request) == [7, 8])
        #expect(settled.enqueueResults[0].error == "OOM" && settled.enqueueResults[1].error != nil)
        #expect(Array(settled.fetchReplies) == [.array([.bulk(job)]), .array([])])
        #expect(settled.refused.count == 2)
        #expect(batch.isEmpty, "what was sent leaves the batch")
    }

    /// A running job's enqueue whose queue names no queue is refused with the reason, never pushed to `queue:`.
    @Test func anEnqueueWithAnEmptyQueueIsRefused() {
        var batch = SettlementBatch()
        batch.enqueue(request: 9, at: 1_900_000_000, payload: Array(#"{"class":"A","args":[],"jid":"j2","queue":""}"#.utf8))
        let plan = batch.plan(to: target, fetch: [], flushStats: false, now: 1_800_000_000)
        #expect(plan.layout.enqueues.isEmpty && plan.layout.refusedEnqueues.map(\.request) == [9])
        #expect(plan.layout.refusedEnqueues.first?.reason.contains("'queue' is an empty string") == true)
    }

    @Test func aFailedRoundTripKeepsEverythingForTheNextPlan() {
        var batch = SettlementBatch()
        batch.ack(Array("a1".utf8))
        let first = batch.plan(to: target, fetch: [], flushStats: false, now: 1)
        #expect(first.layout.stats.isEmpty, "stats wait for their flush interval")
        // No settle: the pipeline failed. The next plan carries the same ack and, now, the stats.
        let second = batch.plan(to: target, fetch: [], flushStats: true, now: 2)
        #expect(second.layout.acks == 0..<1 && !second.layout.stats.isEmpty)
        batch.ack(Array("a2".utf8))  // arrives before the replies
        _ = batch.settle(second, replies: [RedisReply](repeating: .integer(1), count: second.items.count))
        #expect(batch.acks == [Array("a2".utf8)], "only what that plan sent is settled")
    }
}

@Suite struct LostJobsTests {
    func loss(stopped: Bool = false, drain: WorkerProcessHandle.DrainReason? = nil) -> ChildSupervisor.Loss {
        .init(pid: 42, status: .signaled(SIGSEGV), drainReason: drain, wasStopped: stopped, reason: nil)
    }

    @Test func aCrashWithSeveralJobsRunningMakesThemSuspectsAndChargesNobody() {
        var table = InFlightJobs()
        let a = table.add([1]), b = table.add([2]), _ = table.add([3])
        table.markStarted(a, at: 1, timeout: 0)
        table.markStarted(b, at: 1, timeout: 0)
        let taken = table.takeAll()
        let s = LostJobs.settle(running: taken.running, notStarted: taken.notStarted, loss: loss(), timedOut: [], queue: "q")
        #expect(s.requeue == [[3]] && s.failures.isEmpty && s.suspects == [[1], [2]])
    }

    @Test func theOnlyJobRunningIsTheCulpritAndATimedOutJobIsChargedWhileItsNeighboursAreSuspects() {
        var alone = InFlightJobs()
        let only = alone.add([1])
        alone.markStarted(only, at: 1, timeout: 0)
        let one = alone.takeAll()
        let s1 = LostJobs.settle(running: one.running, notStarted: one.notStarted, loss: loss(), timedOut: [], queue: "q")
        #expect(s1.failures.map(\.failure.errorClass) == ["Verk.ProcessCrashed"] && s1.suspects.isEmpty)
        #expect(s1.failures[0].failure.message.contains("SIGSEGV"))

        var table = InFlightJobs()
        let a = table.add([1]), b = table.add([2])
        table.markStarted(a, at: 1, timeout: 5)
        table.markStarted(b, at: 1, timeout: 0)
        let taken = table.takeAll()
        let s2 = LostJobs.settle(running: taken.running, notStarted: taken.notStarted, loss: loss(), timedOut: [a], queue: "q")
        #expect(s2.failures.map(\.failure.errorClass) == ["Verk.Timeout"] && s2.suspects == [[2]])
    }

    @Test func inQuarantineTheJobRunningIsTheCulprit() {
        var table = InFlightJobs()
        let a = table.add([1])
        table.markStarted(a, at: 1, timeout: 0)
        let taken = table.takeAll()
        let s = LostJobs.settle(running: taken.running, notStarted: taken.notStarted, loss: loss(), timedOut: [], queue: "q", quarantine: true)
        #expect(s.failures.count == 1 && s.failures[0].failure.message.contains("quarantine") && s.suspects.isEmpty)
    }

    @Test func aProcessTheSupervisorStoppedChargesNobody() {
        var table = InFlightJobs()
        let a = table.add([1]), _ = table.add([2])
        table.markStarted(a, at: 1, timeout: 0)
        let taken = table.takeAll()
        let s = LostJobs.settle(running: taken.running, notStarted: taken.notStarted, loss: loss(stopped: true, drain: .shutdown), timedOut: [], queue: "q")
        #expect(s.failures.isEmpty && Set(s.requeue) == [[1], [2]])
    }
}

@Suite struct WorkerProcessHandleTests {
    /// A process that ignores SIGTERM: only the escalation to SIGKILL ends it.
    func stubborn() throws -> ChildLauncher.Launched {
        var fds: [Int32] = [0, 0]
        #expect(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &fds) == 0)
        close(fds[1])
        var pid: pid_t = 0
        let parts: [String] = ["/bin/sh", "-c", "trap '' TERM; while :; do sleep 1; done"]
        let argv: [UnsafeMutablePointer<CChar>?] = parts.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        #expect(posix_spawn(&pid, "/bin/sh", nil, nil, argv, environ) == 0)
        return .init(pid: pid, socket: fds[0], pidfd: -1)
    }

    @Test func stopEscalatesFromSIGTERMToSIGKILLAfterTheGrace() throws {
        let handle = WorkerProcessHandle(try stubborn(), helloTimeout: 10)
        #expect(handle.state == .starting && handle.nextDeadline == handle.helloDeadline)
        #expect(handle.markReady() && handle.acceptsJobs)
        handle.beginDrain(.shutdown)
        #expect(handle.state == .draining && !handle.acceptsJobs && handle.drainReason == .shutdown)
        let t0 = Timestamp.now()
        handle.terminate(grace: 0.3, now: t0)
        #expect(handle.state == .stopping && handle.nextDeadline == t0 + 0.3)
        #expect(!handle.escalateIfDue(now: t0 + 0.1), "not before the grace has run out")
        #expect(handle.reap() == nil, "SIGTERM is ignored: still alive")
        #expect(handle.escalateIfDue(now: t0 + 0.3))
        #expect(handle.awaitExit(timeout: 5) == .signaled(SIGKILL))
        #expect(handle.drainReason == .shutdown, "the reason outlives the state")
    }
}

@Suite struct CommandLineSecretsTests {
    @Test func passwordsInURLsAndPasswordParametersAreMaskedAndNothingElse() {
        let masked = CommandLineSecrets.redacted([
            "app", "--redis-url", "redis://:s3cret@10.0.0.1:6379/0", "--redis-url=redis://user:pw@host/1",
            "redis+sentinel://:pw2@h1:26379,h2:26379/mymaster?sentinel_password=spw&db=2", "unix://u:p@/run/redis.sock?db=1",
            "redis://host:6379/0", "plain", "--x=a:b@c",
        ])
        #expect(masked == [
            "app", "--redis-url", "redis://:******@10.0.0.1:6379/0", "--redis-url=redis://user:**@host/1",
            "redis+sentinel://:***@h1:26379,h2:26379/mymaster?sentinel_password=***&db=2", "unix://u:*@/run/redis.sock?db=1",
            "redis://host:6379/0", "plain", "--x=a:b@c",
        ])
    }
}

@Suite struct PoisonPillRuleTests {
    @Test func theThirdKillIsFinalWhateverTheRetrySetting() {
        let rule = PoisonPillRule(maxKills: 3)
        var job = Job(className: "Poison", args: [])
        let crash = JobFailure(errorClass: "Verk.ProcessCrashed", message: "killed by signal 11")
        #expect(rule.apply(to: &job, failure: crash).retryable)
        #expect(rule.apply(to: &job, failure: JobFailure(errorClass: "Verk.Timeout", message: "t")).retryable)
        let third = rule.apply(to: &job, failure: crash)
        #expect(!third.retryable && third.message.contains("3 times") && job[PoisonPillRule.field]?.intValue == 3)
        var other = Job(className: "Plain", args: [])
        #expect(rule.apply(to: &other, failure: JobFailure(errorClass: "RuntimeError", message: "x")).retryable)
        #expect(other[PoisonPillRule.field] == nil, "an ordinary failure is not a kill")
    }
}
