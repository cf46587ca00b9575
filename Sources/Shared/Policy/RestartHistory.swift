/// The restart record of one queue's worker process, to which a `RestartPolicy` is applied: the times of
/// recent restarts and whether the queue is failing. Pure: the caller passes the clock.
package struct RestartHistory: Sendable, Equatable {
    package let policy: RestartPolicy
    /// Restarts within the policy's period, oldest first.
    package private(set) var recentRestarts: [Double] = []
    /// More than `policy.intensity` restarts within `policy.period`: retried only every `failingDelay`.
    package private(set) var isFailing = false

    package init(policy: RestartPolicy = RestartPolicy()) { self.policy = policy }

    /// What recording one more death means for the next start.
    package struct Step: Sendable, Equatable {
        /// Seconds to wait before starting the replacement.
        package var delay: Double
        /// This death made the queue failing (it was not before): report it once.
        package var becameFailing: Bool

        package init(delay: Double, becameFailing: Bool) {
            self.delay = delay
            self.becameFailing = becameFailing
        }
    }

    /// Records that the worker process died at `now` and a replacement is due.
    package mutating func recordDeath(at now: Double) -> Step {
        let decision = policy.decide(recentRestarts: recentRestarts, now: now)
        recentRestarts = recentRestarts.filter { now - $0 < policy.period } + [now]
        let became = decision.failing && !isFailing
        isFailing = decision.failing
        return Step(delay: decision.delay, becameFailing: became)
    }
}
