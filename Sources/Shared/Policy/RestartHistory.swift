/// The restart record of one queue's worker process, to which a `RestartPolicy` is applied: the times of
/// recent restarts and whether the queue is failing. Pure: the caller passes the clock.
public struct RestartHistory: Sendable, Equatable {
    public let policy: RestartPolicy
    /// Restarts within the policy's period, oldest first.
    public private(set) var recentRestarts: [Double] = []
    /// More than `policy.intensity` restarts within `policy.period`: retried only every `failingDelay`.
    public private(set) var isFailing = false

    public init(policy: RestartPolicy = RestartPolicy()) { self.policy = policy }

    /// What recording one more death means for the next start.
    public struct Step: Sendable, Equatable {
        /// Seconds to wait before starting the replacement.
        public var delay: Double
        /// This death made the queue failing (it was not before): report it once.
        public var becameFailing: Bool

        public init(delay: Double, becameFailing: Bool) {
            self.delay = delay
            self.becameFailing = becameFailing
        }
    }

    /// Records that the worker process died at `now` and a replacement is due.
    public mutating func recordDeath(at now: Double) -> Step {
        let decision = policy.decide(recentRestarts: recentRestarts, now: now)
        recentRestarts = recentRestarts.filter { now - $0 < policy.period } + [now]
        let became = decision.failing && !isFailing
        isFailing = decision.failing
        return Step(delay: decision.delay, becameFailing: became)
    }
}
