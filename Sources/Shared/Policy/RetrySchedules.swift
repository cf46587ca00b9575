/// Workers' own retry schedules (Verk's `retry_at(failed_at, retry_count)`), by class name, as data the
/// supervisor can use without knowing the worker types: it applies them to crashes and timeouts too.
package struct RetrySchedules: Sendable {
    package typealias Schedule = @Sendable (_ failedAt: Double, _ retryCount: Int) -> Double?
    private var schedules: [String: Schedule]

    package init(_ schedules: [String: Schedule] = [:]) { self.schedules = schedules }

    /// The class's schedule, or nil for Sidekiq's backoff.
    package func schedule(for className: String) -> Schedule? { schedules[className] }
}
