import Synchronization
import VerkShared

/// Until when this node knows its id's lease is its own, and so may fetch. The heartbeat moves it forward
/// at each renewal (to when the renewal was sent, plus the lease's life); the queue managers fetch nothing
/// once it has passed. A node cut off from Redis for longer than its lease may have been taken over: when the
/// link comes back it must not fetch (and run what the taker requeued) in the instant before its next beat
/// finds the lease gone and stops it, which the chaos soak caught it doing. Fetching resumes at the
/// renewal that takes a merely lapsed lease again.
final class LeaseFence: Sendable {
    /// Epoch seconds, as the bits of a Double.
    private let openUntil = Atomic<UInt64>(0)
    let ttl: Double

    init(ttl: Double) { self.ttl = ttl }

    /// The lease was confirmed by a command sent at `sentAt` (epoch seconds).
    func confirmed(sentAt: Double) {
        let until = sentAt + ttl
        var current = openUntil.load(ordering: .relaxed)
        while Double(bitPattern: current) < until {
            let (exchanged, original) = openUntil.compareExchange(expected: current, desired: until.bitPattern, ordering: .relaxed)
            if exchanged { return }
            current = original
        }
    }

    /// The lease was just acquired, at an instant within the last round trip: counted from a little earlier.
    func acquired(now: Double = Timestamp.now()) { confirmed(sentAt: now - ttl / 10) }

    func isOpen(at now: Double) -> Bool { now < Double(bitPattern: openUntil.load(ordering: .relaxed)) }
}
