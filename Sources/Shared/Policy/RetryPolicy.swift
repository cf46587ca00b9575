/// What happens to a failed job: Sidekiq's rules (job_retry.rb) as a pure function.
public struct RetryPolicy: Sendable, Equatable {
    /// Used when the job's `retry` is `true` (or unrecognised).
    public var maxRetries: Int
    public var maxDeadJobs: Int
    public var deadTimeout: Double
    /// The form of `failed_at`/`retried_at` on a job that has no timestamp of its own to follow.
    public var timestamps: TimestampFormat

    public init(maxRetries: Int = SidekiqDefaults.maxRetries, maxDeadJobs: Int = SidekiqDefaults.maxDeadJobs,
                deadTimeout: Double = SidekiqDefaults.deadTimeout, timestamps: TimestampFormat = .seconds) {
        self.maxRetries = maxRetries
        self.maxDeadJobs = maxDeadJobs
        self.deadTimeout = deadTimeout
        self.timestamps = timestamps
    }

    public enum Destination: Sendable, Equatable {
        case retry(at: Double)
        case dead
        /// `retry: false`, or `dead: false` once exhausted: the job is dropped, as Sidekiq drops it.
        case discard
    }

    public struct Outcome: Sendable, Equatable {
        public var job: Job
        public var destination: Destination
    }

    /// The failure as recorded on the job. `retryAt` is the worker's own schedule, as Verk's
    /// `retry_at(failed_at, retry_count)`: it returns when to run again (epoch seconds), or nil for Sidekiq's.
    /// A job Verk or Exq wrote is counted and stamped their way (`JobDialect`), so they can still run it;
    /// limits, backoff and `retryAt` see the count in Sidekiq's terms (0 after the first failure) for all.
    public func outcome(
        for original: Job, failure: JobFailure, fetchedFrom queue: String, now: Double = Timestamp.now(),
        retryAt: ((_ failedAt: Double, _ retryCount: Int) -> Double?)? = nil
    ) -> Outcome {
        var job = original
        let dialect = job.dialect
        // Sidekiq's Web and API (and `verk retries|dead`) address an entry by its jid: one without is given one.
        if (job.jid ?? "").isEmpty { job.jid = JobID.generate() }
        job.queue = job.retryQueue ?? queue
        job.errorMessage = String(failure.message.prefix(10_000))
        job.errorClass = failure.errorClass
        let previous = job.retryCount
        let stored = dialect.retryCount(afterFailureWith: previous)
        let stamps = dialect.failureStamps(previousCount: previous, newCount: stored, hasFailedAt: job.failedAt != nil)
        if stamps.failedAt { job.setTimestamp(.failedAt, now, defaultFormat: timestamps) }
        if stamps.retriedAt { job.setTimestamp(.retriedAt, now, defaultFormat: timestamps) }
        job.retryCount = stored
        let count = dialect.sidekiqRetryCount(stored: stored) ?? 0
        if let lines = job.backtraceLines, !failure.backtrace.isEmpty {
            job["error_backtrace"] = .string(Backtrace.encode(Array(failure.backtrace.prefix(lines))))
        }
        let max: Int
        if !failure.retryable { return Outcome(job: job, destination: job.retry == .disabled || job.skipsDeadSet ? .discard : .dead) }
        switch job.retry {
        // Exq sends a job that must not retry to its dead set; Sidekiq drops it.
        case .disabled: return Outcome(job: job, destination: dialect == .exq ? .dead : .discard)
        case .limit(let n): max = n
        case .enabled: max = maxRetries
        }
        if count >= max {
            return Outcome(job: job, destination: job.skipsDeadSet ? .discard : .dead)
        }
        if let at = retryAt?(now, count) { return Outcome(job: job, destination: .retry(at: Swift.max(at, now))) }
        return Outcome(job: job, destination: .retry(at: now + Backoff.sidekiqDelay(count: count)))
    }
}

/// A job's failure as the worker (or the supervisor, for a crash) reports it.
public struct JobFailure: Sendable, Equatable {
    public var errorClass: String
    public var message: String
    public var backtrace: [String]
    /// False when running the job again cannot succeed (it can never be delivered): it goes to dead at once.
    public var retryable: Bool

    public init(errorClass: String, message: String, backtrace: [String] = [], retryable: Bool = true) {
        self.errorClass = errorClass
        self.message = message
        self.backtrace = backtrace
        self.retryable = retryable
    }
}
