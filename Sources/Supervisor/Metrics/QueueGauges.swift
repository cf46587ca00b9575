import CoreMetrics
import Glibc
import VerkShared

/// The gauges that cost a Redis round trip or a read of /proc, set once per heartbeat on its thread: each
/// served queue's size and latency (one pipeline of `LLEN` and `LRANGE -1 -1` per queue: the oldest job's
/// `enqueued_at`, as `verk queues` and Sidekiq's `Queue#latency` read it), its worker process's resident
/// memory, and the supervisor's. A queue this node stops serving has its gauges removed, so no stale value
/// lingers.
final class QueueGauges {
    private struct Series {
        let size: Gauge
        let latency: Gauge
        let rss: Gauge
    }

    private let keys: KeySpace
    private var series: [String: Series] = [:]
    private let supervisorRSS = Gauge(label: VerkMetric.supervisorRSS)

    init(keys: KeySpace) { self.keys = keys }

    /// `workers` is each served queue's worker process, if it has one now.
    func sample(_ redis: RedisConnection, workers: [String: pid_t?], now: Double = Timestamp.now()) throws(RedisError) {
        let queues = workers.keys.sorted()
        for gone in series.keys where !workers.keys.contains(gone) { remove(gone) }
        supervisorRSS.record(ProcessMemory.residentKB(pid: getpid()) * 1024)
        for queue in queues {
            let s = series(queue)
            s.rss.record(workers[queue].flatMap { $0 }.map { ProcessMemory.residentKB(pid: $0) * 1024 } ?? 0)
        }
        let replies = try redis.pipeline(queues.flatMap { [RedisCommand("LLEN", keys.queue($0)), RedisCommand("LRANGE", keys.queue($0), -1, -1)] })
        for (i, queue) in queues.enumerated() where 2 * i + 1 < replies.count {
            let s = series(queue)
            s.size.record(replies[2 * i].int ?? 0)
            s.latency.record(QueueStats.latency(oldest: replies[2 * i + 1].array?.first?.bytes, now: now))
        }
    }

    private func series(_ queue: String) -> Series {
        if let s = series[queue] { return s }
        let dimensions = [("queue", queue)]
        let made = Series(size: Gauge(label: VerkMetric.queueSize, dimensions: dimensions),
                          latency: Gauge(label: VerkMetric.queueLatency, dimensions: dimensions),
                          rss: Gauge(label: VerkMetric.workerRSS, dimensions: dimensions))
        series[queue] = made
        return made
    }

    private func remove(_ queue: String) {
        guard let s = series.removeValue(forKey: queue) else { return }
        s.size.destroy()
        s.latency.destroy()
        s.rss.destroy()
    }
}
