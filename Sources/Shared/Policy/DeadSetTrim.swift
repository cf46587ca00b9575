/// The one owner of how the dead set stays bounded, as Sidekiq's `DeadSet#kill` keeps it: a job that goes
/// dead is added with score `now`, then entries older than `dead_timeout` and all but the newest
/// `max_dead_jobs` are removed — in the same script as the move, so no path can let the set grow unbounded.
/// Every script that adds to `dead` (a failed job, a killed retry or scheduled job, a parked invalid payload)
/// runs `lua` with `arguments`.
package struct DeadSetTrim: Sendable {
    package let policy: RetryPolicy

    package init(policy: RetryPolicy) { self.policy = policy }

    /// The trim's two script arguments: the oldest score kept, and how many entries are kept.
    package func arguments(now: Double) -> [any RedisArgument] { [now - policy.deadTimeout, policy.maxDeadJobs] }

    /// The Lua lines that trim `key`, reading the cutoff from `ARGV[cutoffArg]` and the size from the next.
    static func lua(key: String, cutoffArg: Int) -> String {
        """
        redis.call('ZREMRANGEBYSCORE', \(key), '-inf', '(' .. ARGV[\(cutoffArg)])
          redis.call('ZREMRANGEBYRANK', \(key), 0, -(tonumber(ARGV[\(cutoffArg + 1)]) + 1))
        """
    }
}
