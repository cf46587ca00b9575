import CoreMetrics
import Glibc
import VerkShared

/// One queue's per-class job metrics (processed, failed, duration), each `Counter` and `Timer` made once
/// and found again from a payload's bytes (`JobClassScanner`) with no parse and no allocation: the queue
/// loop records every job. Confined to the queue manager's thread. At most `maxClasses` classes get series
/// of their own, so a stream of odd payloads cannot grow memory or the scrape without bound; later ones are
/// counted as `class="other"`. With no metrics backend bootstrapped it records nothing, and costs nothing.
struct JobClassMetrics {
    struct Series {
        let processed: Counter
        let failed: Counter
        let duration: CoreMetrics.Timer
    }

    static let maxClasses = 100
    /// The label of a job whose class cannot be read (its payload is not a Sidekiq job).
    static let unreadable = "(unreadable)"
    static let other = "other"

    let queue: String
    /// Metrics made now are bound to the backend of now: with none, they could never be seen.
    private let enabled = !(MetricsSystem.factory is NOOPMetricsHandler)
    private var names: [[UInt8]] = []
    private var series: [Series] = []
    private var lastHit = 0

    init(queue: String) { self.queue = queue }

    /// A job ended: `failed` or done, with how long it ran when the worker process measured it (a job lost
    /// with its process has no duration). Counted as Sidekiq's stats count it: every job is processed.
    mutating func record(_ payload: [UInt8], failed: Bool, micros: UInt64?) {
        guard enabled else { return }
        let s = self.series(for: payload)
        s.processed.increment()
        if failed { s.failed.increment() }
        if let micros { s.duration.recordNanoseconds(Int64(clamping: micros) &* 1000) }
    }

    mutating func series(for payload: [UInt8]) -> Series {
        guard let range = JobClassScanner.classRange(in: payload) else {
            // Rare (escapes in the class, or not a job): parsing is affordable here.
            let name = (try? Job(parsing: payload))?.className ?? Self.unreadable
            return series(named: Array(name.utf8))
        }
        return payload.withUnsafeBufferPointer { bytes in
            let name = UnsafeBufferPointer(rebasing: bytes[range])
            // Most queues run one class or a few: the last hit first, then a short scan.
            if lastHit < names.count, Self.same(names[lastHit], name) { return series[lastHit] }
            for i in names.indices where Self.same(names[i], name) {
                lastHit = i
                return series[i]
            }
            return add(Array(name))
        }
    }

    private mutating func series(named name: [UInt8]) -> Series {
        if let i = names.firstIndex(of: name) { return series[i] }
        return add(name)
    }

    private mutating func add(_ name: [UInt8]) -> Series {
        guard names.count < Self.maxClasses else {
            let other = Array(Self.other.utf8)
            if let i = names.firstIndex(of: other) { return series[i] }
            return append(other)
        }
        return append(name)
    }

    private mutating func append(_ name: [UInt8]) -> Series {
        let dimensions = [("queue", queue), ("class", String(decoding: name, as: UTF8.self))]
        let made = Series(processed: Counter(label: VerkMetric.jobsProcessed, dimensions: dimensions),
                          failed: Counter(label: VerkMetric.jobsFailed, dimensions: dimensions),
                          duration: CoreMetrics.Timer(label: VerkMetric.jobDuration, dimensions: dimensions))
        names.append(name)
        series.append(made)
        lastHit = names.count - 1
        return made
    }

    private static func same(_ name: [UInt8], _ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard name.count == bytes.count else { return false }
        guard let b = bytes.baseAddress else { return true }
        return name.withUnsafeBufferPointer { a in a.baseAddress.map { memcmp($0, b, bytes.count) == 0 } ?? false }
    }
}
