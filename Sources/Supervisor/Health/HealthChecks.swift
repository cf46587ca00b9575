/// Judges a `NodeHealth.Snapshot`, as `/healthz` and `/readyz` answer: each failing check is one line that
/// names what failed (the queue, Redis, the node) and why. Pure, so the thresholds are unit-tested.
///
/// Liveness fails only when a thread is stuck, never because Redis is down: a liveness probe that failed on
/// an outage would have Kubernetes restart every node at once. Readiness is the node doing its work now.
package struct HealthChecks: Sendable {
    /// A queue loop cycles at least twice a second; a Redis reconnect can hold it about 15 s (10 s of
    /// reconnecting plus a 5 s connect timeout).
    package var queueStall = 60.0
    /// One beat every `heartbeat_interval`; a failed one can take a reconnect's 15 s.
    package var heartbeatStall: Double
    /// How old the last beat that reached Redis may be: two intervals and a command's 10 s timeout.
    package var redisStale: Double

    package init(heartbeatInterval: Double) {
        heartbeatStall = 3 * heartbeatInterval + 60
        redisStale = 2 * heartbeatInterval + 10
    }

    /// What is stuck: a queue loop, or the heartbeat. Empty when the node is alive.
    package func liveness(_ s: NodeHealth.Snapshot) -> [String] {
        var failures: [String] = []
        for queue in s.queues where age(queue.lastCycle, s) > queueStall {
            failures.append("queue \(queue.name): its loop has made no progress for \(seconds(age(queue.lastCycle, s))) s")
        }
        let sinceBeat = age(s.lastBeat ?? s.startedAt, s)
        if sinceBeat > heartbeatStall {
            failures.append("heartbeat: \(s.lastBeat == nil ? "has not beaten since the start" : "no beat") for \(seconds(sinceBeat)) s")
        }
        return failures
    }

    /// What keeps the node from serving: stopping or quiet, Redis not reached by the heartbeat, a queue
    /// whose worker process is not ready (a paused queue, which has none on purpose, is ready). Empty when ready.
    package func readiness(_ s: NodeHealth.Snapshot) -> [String] {
        var failures: [String] = []
        if s.stopping {
            failures.append("node: stopping (draining its queues)")
        } else if s.quiet {
            failures.append("node: quiet (it fetches no new jobs)")
        }
        if let reached = s.lastBeatReachedRedis {
            if !s.redisReachable {
                failures.append("redis: the last heartbeat could not reach Redis (\(seconds(age(reached, s))) s since one did)")
            } else if age(reached, s) > redisStale {
                failures.append("redis: no heartbeat has reached Redis for \(seconds(age(reached, s))) s")
            }
        } else {
            failures.append(s.lastBeat == nil ? "redis: not reached yet (the first heartbeat is under way)"
                                              : "redis: no heartbeat has reached Redis since the start")
        }
        let running = Dictionary(s.queues.map { ($0.name, $0) }, uniquingKeysWith: { _, last in last })
        for name in s.expectedQueues {
            guard let queue = running[name] else {
                failures.append("queue \(name): not started yet")
                continue
            }
            if let why = Self.notReady(queue.worker) { failures.append("queue \(name): its worker process \(why)") }
        }
        return failures
    }

    private static func notReady(_ worker: NodeHealth.Worker) -> String? {
        switch worker {
        case .ready, .paused: return nil
        case .starting: return "is starting"
        case .absent: return "is not running (about to start, or waiting out its restart backoff)"
        case .failing: return "keeps dying (past its restart limit, it is retried slowly)"
        case .draining: return "is draining (finishing its jobs before it exits)"
        }
    }

    private func age(_ time: UInt64, _ s: NodeHealth.Snapshot) -> Double {
        s.now > time ? Double(s.now - time) / 1e9 : 0
    }

    private func seconds(_ value: Double) -> String { String(Int(value.rounded())) }
}
