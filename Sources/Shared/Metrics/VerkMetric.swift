import CoreMetrics

/// Every metric Verk records through swift-metrics, by name: the one place the names and labels are written
/// (the README lists them). Prometheus conventions: a counter ends in `_total`, units in the name.
/// Labels: `queue` (the queue's name), `class` (the job's Sidekiq `class`).
package enum VerkMetric {
    /// Jobs executed (done or failed, as Sidekiq's `stat:processed` counts them), by queue and class.
    package static let jobsProcessed = "verk_jobs_processed_total"
    /// Jobs that failed (`stat:failed`), by queue and class.
    package static let jobsFailed = "verk_jobs_failed_total"
    /// How long jobs ran in their worker process, done or failed, by queue and class (a histogram).
    package static let jobDuration = "verk_job_duration_seconds"
    /// Jobs sent to the queue's worker process and not yet settled (running or prefetched), by queue.
    package static let jobsInFlight = "verk_jobs_in_flight"
    /// Jobs waiting in the queue, and the age of the oldest (Sidekiq's latency), by queue, every heartbeat.
    package static let queueSize = "verk_queue_size"
    package static let queueLatency = "verk_queue_latency_seconds"
    /// Worker processes replaced after dying unasked (crash, kill, timeout), by queue.
    package static let workerRestarts = "verk_worker_restarts_total"
    /// Resident memory of the queue's worker process, by queue, every heartbeat.
    package static let workerRSS = "verk_worker_rss_bytes"
    /// Resident memory of the supervisor itself.
    package static let supervisorRSS = "verk_supervisor_rss_bytes"
    /// Redis connections lost or refused, and reconnects that followed.
    package static let redisErrors = "verk_redis_errors_total"
    package static let redisReconnects = "verk_redis_reconnects_total"
    /// Dead nodes this node took over, and the in-progress jobs that went back to their queues.
    package static let takeovers = "verk_node_takeovers_total"
    package static let takeoverJobs = "verk_node_takeover_jobs_total"

    /// The node's counters of rare events: declared at start, so a scrape shows them at 0 before any happened.
    package static let nodeCounters = [redisErrors, redisReconnects, takeovers, takeoverJobs]

    /// Counts one event of a rare kind. The counter is looked up each time, which costs a lock: never on a
    /// per-job path (cache the `Counter` there).
    package static func count(_ name: String, by amount: Int = 1) {
        Counter(label: name).increment(by: amount)
    }
}
