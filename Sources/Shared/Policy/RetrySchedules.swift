/// Workers' own retry schedules (Verk's `retry_at(failed_at, retry_count)`), by class name, as data the
/// supervisor can use without knowing the worker types: it applies them to crashes and timeouts too.
public struct RetrySchedules: Sendable {
    public typealias Schedule = @Sendable (_ failedAt: Double, _ retryCount: Int) -> Double?
    private var schedules: [String: Schedule]

    public init(_ schedules: [String: Schedule] = [:]) { self.schedules = schedules }

    /// The class's schedule, or nil for Sidekiq's backoff.
    public func schedule(for className: String) -> Schedule? { schedules[className] }
}
