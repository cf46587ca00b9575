import CoreMetrics
import VerkShared

/// One queue's job metrics, recorded by its queue manager's thread as jobs end: per class processed, failed
/// and duration (`JobClassMetrics`), and the jobs in flight, written only when the count changed.
struct QueueMetrics {
    private var classes: JobClassMetrics
    private let inFlight: Gauge
    private var inFlightShown = -1

    init(queue: String) {
        classes = JobClassMetrics(queue: queue)
        inFlight = Gauge(label: VerkMetric.jobsInFlight, dimensions: [("queue", queue)])
    }

    /// A job ended, counted where its stats are (`SettlementBatch.ack`/`fail`), so the totals match
    /// `stat:processed` and `stat:failed`.
    mutating func jobEnded(_ payload: [UInt8], failed: Bool, micros: UInt64? = nil) {
        classes.record(payload, failed: failed, micros: micros)
    }

    mutating func show(inFlight count: Int) {
        guard count != inFlightShown else { return }
        inFlight.record(count)
        inFlightShown = count
    }
}
