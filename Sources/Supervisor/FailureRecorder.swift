import VerkShared

/// Turns a failed job into the one atomic move out of the in-progress list: into `retry` at its backoff
/// time, into `dead` (trimmed), or nowhere (`retry: false`). A payload that is not a Sidekiq job goes to
/// `dead` as a well-formed job holding the original bytes and the reason (`ParkedPayload`), whatever its
/// `retry` says, and so does a parked job that was put back in a queue. The policy decides; this only
/// builds the script call.
struct FailureRecorder {
    let keys: KeySpace
    let policy: RetryPolicy
    let retrySchedules: RetrySchedules
    let queue: String
    let inProgress: String
    var poisonPill = PoisonPillRule(maxKills: 3)

    func scriptCall(payload: [UInt8], failure: JobFailure, now: Double) -> (call: ScriptCall, destination: RetryPolicy.Destination) {
        var job: Job
        do {
            job = try Job(parsing: payload)
        } catch {
            let parked = ParkedPayload.park(payload, reason: error, origin: .queue(queue), now: now, timestamps: policy.timestamps)
            return (deadCall(payload: payload, rewritten: parked.encoded(), now: now), .dead)
        }
        // A parked job put back in a queue (its worker process refused it) can never run: back to dead as it
        // was, with the reason it was parked for.
        if ParkedPayload.isParked(job) { return (deadCall(payload: payload, rewritten: payload, now: now), .dead) }
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

    private func deadCall(payload: [UInt8], rewritten: [UInt8], now: Double) -> ScriptCall {
        ScriptCall(Scripts.failJob, keys: [inProgress, keys.dead],
                   args: [payload, rewritten, now, "dead"] + DeadSetTrim(policy: policy).arguments(now: now))
    }
}
