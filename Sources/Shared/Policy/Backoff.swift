/// When a failed job runs again. `count` is the job's new `retry_count` (0 at the first failure).
public enum Backoff {
    /// Sidekiq 6.4's delay: `count**4 + 15 + rand(10) * (count + 1)` seconds; a `custom` delay
    /// replaces the `count**4 + 15` base and keeps the jitter, as Sidekiq's `sidekiq_retry_in` does.
    public static func sidekiqDelay(count: Int, custom: Double? = nil, jitter: Int = Int.random(in: 0..<10)) -> Double {
        let c = Double(max(0, count))
        let base: Double
        if let custom, custom > 0 { base = custom } else { base = c * c * c * c + 15 }
        return base + Double(jitter) * (c + 1)
    }
}
