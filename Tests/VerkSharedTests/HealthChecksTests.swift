import Testing
import VerkShared
@testable import VerkSupervisor

/// `/healthz` fails only for a stuck thread, `/readyz` for anything that keeps the node from working now,
/// each with one line naming what and where.
@Suite struct HealthChecksTests {
    static let second: UInt64 = 1_000_000_000
    let checks = HealthChecks(heartbeatInterval: 5)

    /// A node 100 s into its life that beat a second ago, with `default` ready and `mail` paused.
    func healthy() -> NodeHealth.Snapshot {
        let now = 100 * Self.second
        return NodeHealth.Snapshot(
            now: now, startedAt: 0, expectedQueues: ["default", "mail"],
            queues: [.init(name: "default", lastCycle: now, worker: .ready), .init(name: "mail", lastCycle: now, worker: .paused)],
            lastBeat: now - Self.second, lastBeatReachedRedis: now - Self.second, redisReachable: true, quiet: false, stopping: false)
    }

    @Test func aWorkingNodeIsAliveAndReadyAndAPausedQueueCountsAsReady() {
        #expect(checks.liveness(healthy()).isEmpty)
        #expect(checks.readiness(healthy()).isEmpty)
    }

    @Test func aStuckQueueLoopOrHeartbeatFailsLivenessNamingIt() {
        var s = healthy()
        s.queues[0].lastCycle = s.now - 61 * Self.second
        s.lastBeat = s.now - 80 * Self.second
        #expect(checks.liveness(s) == ["queue default: its loop has made no progress for 61 s", "heartbeat: no beat for 80 s"])
        s.lastBeat = nil
        s.lastBeatReachedRedis = nil
        #expect(checks.liveness(s).last == "heartbeat: has not beaten since the start for 100 s")
    }

    /// Kubernetes restarts a pod whose liveness fails: an outage of Redis must never do that to every node.
    @Test func redisDownFailsReadinessButNotLiveness() {
        var s = healthy()
        s.redisReachable = false
        s.lastBeat = s.now
        #expect(checks.liveness(s).isEmpty)
        #expect(checks.readiness(s) == ["redis: the last heartbeat could not reach Redis (1 s since one did)"])
        s.redisReachable = true
        s.lastBeatReachedRedis = s.now - 21 * Self.second
        #expect(checks.readiness(s) == ["redis: no heartbeat has reached Redis for 21 s"], "a beat stuck on a hung Redis")
        s.lastBeat = nil
        s.lastBeatReachedRedis = nil
        #expect(checks.readiness(s) == ["redis: not reached yet (the first heartbeat is under way)"])
    }

    @Test func aQueueWithoutAReadyWorkerProcessIsNotReadyAndIsNamed() {
        var s = healthy()
        for (worker, why) in [(NodeHealth.Worker.starting, "is starting"),
                              (.absent, "is not running (about to start, or waiting out its restart backoff)"),
                              (.failing, "keeps dying (past its restart limit, it is retried slowly)"),
                              (.draining, "is draining (finishing its jobs before it exits)")] {
            s.queues[0].worker = worker
            #expect(checks.readiness(s) == ["queue default: its worker process \(why)"])
        }
        s = healthy()
        s.expectedQueues.append("reports")
        #expect(checks.readiness(s) == ["queue reports: not started yet"])
        s = healthy()
        s.expectedQueues = ["default"]
        s.queues[1].worker = .draining
        #expect(checks.readiness(s).isEmpty, "a removed queue draining away does not hold readiness")
    }

    @Test func aQuietOrStoppingNodeIsNotReady() {
        var s = healthy()
        s.quiet = true
        #expect(checks.readiness(s) == ["node: quiet (it fetches no new jobs)"])
        s.stopping = true
        #expect(checks.readiness(s) == ["node: stopping (draining its queues)"])
        #expect(checks.liveness(s).isEmpty)
    }

    @Test func theQueueLoopsAndTheHeartbeatReportThroughNodeHealth() {
        let stop = StopSignal()
        let health = NodeHealth(stop: stop)
        health.expect(queues: ["default"])
        let progress = health.register(queue: "default")
        #expect(checks.readiness(health.snapshot()).contains("queue default: its worker process is starting"))
        progress.cycled(worker: .ready)
        health.beat(reachedRedis: true)
        #expect(checks.readiness(health.snapshot()).isEmpty)
        health.beat(reachedRedis: false)
        #expect(checks.readiness(health.snapshot()).first?.hasPrefix("redis: the last heartbeat could not reach Redis") == true)
        let replacement = health.register(queue: "default")
        health.remove(progress)
        #expect(health.snapshot().queues.count == 1, "removing an ended manager keeps its replacement")
        health.remove(replacement)
        #expect(checks.readiness(health.snapshot()).contains("queue default: not started yet"))
        stop.quiet()
        #expect(health.snapshot().quiet)
    }
}

/// The answers over HTTP, without a socket: paths, methods, and the verdicts' bodies.
@Suite struct HealthEndpointsTests {
    let health = NodeHealth(stop: StopSignal())

    func endpoints() -> HealthEndpoints {
        HealthEndpoints(health: health, checks: HealthChecks(heartbeatInterval: 5), metrics: nil)
    }

    @Test func probesAnswerOkOr503WithOneLinePerFailure() {
        health.expect(queues: ["default"])
        #expect(endpoints().respond(method: "GET", uri: "/healthz") == .init(status: 200, contentType: HealthEndpoints.plain, body: Array("ok\n".utf8)))
        let notReady = endpoints().respond(method: "GET", uri: "/readyz?verbose=1")
        #expect(notReady.status == 503)
        #expect(notReady.text == "redis: not reached yet (the first heartbeat is under way)\nqueue default: not started yet\n")
    }

    @Test func otherPathsAre404AndOtherMethods405() {
        #expect(endpoints().respond(method: "GET", uri: "/").status == 404)
        #expect(endpoints().respond(method: "GET", uri: "/healthz/x").status == 404)
        #expect(endpoints().respond(method: "POST", uri: "/readyz").status == 405)
        #expect(endpoints().respond(method: "HEAD", uri: "/metrics").text == "method HEAD not allowed: use GET\n")
        #expect(endpoints().respond(method: "GET", uri: "/metrics").status == 404, "the app's own metrics backend is not Prometheus")
    }
}
