import FoundationEssentials
import VerkShared

/// The node-wide "stop fetching and drain" flag, set once by SIGTERM/SIGINT, Sidekiq's Stop button or
/// `stop()`, with a wait that returns early when it is set; and the "quiet" flag (Sidekiq's TSTP: stop
/// fetching, keep running). `@unchecked Sendable`: state only under `condition`.
public final class StopSignal: @unchecked Sendable {
    private let condition = ThreadCondition()
    private var stoppedAt: Double?
    private var quieted = false

    public init() {}

    /// Quiet: no new jobs are fetched; running ones finish. It lasts until the process stops.
    public var isQuiet: Bool {
        condition.lock()
        defer { condition.unlock() }
        return quieted || stoppedAt != nil
    }

    public func quiet() {
        condition.lock()
        let first = !quieted
        quieted = true
        let observers = quietObservers
        condition.unlock()
        if first { for observer in observers { observer() } }
    }

    private var quietObservers: [@Sendable () -> Void] = []

    /// Called once when the node turns quiet (the supervisor wakes its queue loops with it).
    func onQuiet(_ observer: @escaping @Sendable () -> Void) {
        condition.lock()
        quietObservers.append(observer)
        condition.unlock()
    }

    public var isStopping: Bool {
        condition.lock()
        defer { condition.unlock() }
        return stoppedAt != nil
    }

    /// When the stop was requested (epoch seconds), if it was.
    public var requestedAt: Double? {
        condition.lock()
        defer { condition.unlock() }
        return stoppedAt
    }

    public func stop() {
        condition.lock()
        if stoppedAt == nil { stoppedAt = Date().timeIntervalSince1970 }
        condition.broadcast()
        condition.unlock()
    }

    /// Waits up to `seconds`; true if stopping.
    @discardableResult
    public func wait(_ seconds: Double) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        condition.lock()
        defer { condition.unlock() }
        while stoppedAt == nil {
            if !condition.wait(until: deadline) { break }
        }
        return stoppedAt != nil
    }
}
