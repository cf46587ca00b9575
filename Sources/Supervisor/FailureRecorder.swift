import VerkShared

/// Turns a failed job into the one atomic move out of the in-progress list: into `retry` at its backoff
/// time, into `dead` (trimmed), or nowhere (`retry: false`). A payload that is not even JSON goes to
/// `dead` as the raw string, as Sidekiq does. The policy decides; this only builds the script call.
struct FailureRecorder {
    let keys: KeySpace
    let policy: RetryPolicy
    let retrySchedules: RetrySchedules
    let queue: String
    let inProgress: String
    var poisonPill = PoisonPillRule(maxKills: 3)

    func scriptCall(payload: [UInt8], failure: JobFailure, now: Double) -> (call: ScriptCall, destination: RetryPolicy.Destination) {
        guard var job = try? Job(parsing: payload) else {
            return (deadCall(payload: payload, now: now), .dead)
        }
        let failure = poisonPill.apply(to: &job, failure: failure)
        let retryAt = retrySchedules.schedule(for: job.className)
        let outcome = policy.outcome(for: job, failure: failure, fetchedFrom: queue, now: now, retryAt: retryAt)
        switch outcome.destination {
        case .retry(let at):
            return (ScriptCall(Scripts.failJob, keys: [inProgress, keys.retry],
                               args: [payload, outcome.job.encoded(), at, "retry", 0, 0]), outcome.destination)
        case .dead:
            return (deadCall(payload: payload, rewritten: outcome.job.encoded(), now: now), .dead)
        case .discard:
            return (ScriptCall(Scripts.failJob, keys: [inProgress, keys.dead], args: [payload, payload, now, "discard", 0, 0]), .discard)
        }
    }

    private func deadCall(payload: [UInt8], rewritten: [UInt8]? = nil, now: Double) -> ScriptCall {
        ScriptCall(Scripts.failJob, keys: [inProgress, keys.dead],
                   args: [payload, rewritten ?? payload, now, "dead"] + DeadSetTrim(policy: policy).arguments(now: now))
    }
}
