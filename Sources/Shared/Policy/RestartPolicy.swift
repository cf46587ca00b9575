/// When to restart a worker process that died, in the manner of an OTP supervisor: exponential backoff
/// with a cap, and an intensity limit (restarts within a period) past which the queue is reported
/// failing and only retried slowly. Pure: the caller passes the times of recent restarts.
package struct RestartPolicy: Sendable, Equatable {
    /// Delay before the second restart in a period (the first is immediate).
    package var baseDelay: Double = 0.1
    package var maxDelay: Double = 10
    /// More than this many restarts within `period` seconds marks the queue as failing.
    package var intensity = 10
    package var period: Double = 60
    /// While failing, one restart attempt this often.
    package var failingDelay: Double = 30

    package init() {}

    package struct Decision: Sendable, Equatable {
        package var delay: Double
        package var failing: Bool
    }

    /// `recentRestarts` are the times of earlier restarts; those older than `period` are ignored.
    package func decide(recentRestarts: [Double], now: Double) -> Decision {
        let n = recentRestarts.filter { now - $0 < period }.count
        if n >= intensity { return Decision(delay: failingDelay, failing: true) }
        if n == 0 { return Decision(delay: 0, failing: false) }
        var delay = baseDelay
        for _ in 1..<n { delay = min(delay * 2, maxDelay) }
        return Decision(delay: min(delay, maxDelay), failing: false)
    }
}
