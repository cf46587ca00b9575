/// What happens to a failed job: Sidekiq's rules (job_retry.rb) as a pure function.
public struct RetryPolicy: Sendable, Equatable {
    /// Used when the job's `retry` is `true` (or unrecognised).
    public var maxRetries: Int
    public var maxDeadJobs: Int
    public var deadTimeout: Double

    public init(maxRetries: Int = SidekiqDefaults.maxRetries, maxDeadJobs: Int = SidekiqDefaults.maxDeadJobs,
                deadTimeout: Double = SidekiqDefaults.deadTimeout) {
        self.maxRetries = maxRetries
        self.maxDeadJobs = maxDeadJobs
        self.deadTimeout = deadTimeout
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
    public func outcome(
        for original: Job, failure: JobFailure, fetchedFrom queue: String, now: Double = Timestamp.now(),
        retryAt: ((_ failedAt: Double, _ retryCount: Int) -> Double?)? = nil
    ) -> Outcome {
        var job = original
        job.queue = job.retryQueue ?? queue
        job.errorMessage = String(failure.message.prefix(10_000))
        job.errorClass = failure.errorClass
        let count: Int
        if let previous = job.retryCount {
            // `retry_count` is whatever the payload says: at Int.max, + 1 would trap the supervisor of every node
            // that fetches the job (it would crash, recover the job and fetch it again).
            count = previous < .max ? previous + 1 : previous
            job.retriedAt = now
        } else {
            count = 0
            job.failedAt = now
        }
        job.retryCount = count
        if let lines = job.backtraceLines, !failure.backtrace.isEmpty {
            job["error_backtrace"] = .string(Backtrace.encode(Array(failure.backtrace.prefix(lines))))
        }
        let max: Int
        if !failure.retryable { return Outcome(job: job, destination: job.retry == .disabled || job.skipsDeadSet ? .discard : .dead) }
        switch job.retry {
        case .disabled: return Outcome(job: job, destination: .discard)
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
