/// Which system's rules a job follows, told from fields only that system writes (shared/fixtures/peers has
/// their real bytes). A job keeps its dialect through our rewrites, so the system that wrote it can still
/// run it when it shares the Redis with us: we count its failures and write its timestamps its way.
public enum JobDialect: Sendable, Equatable {
    /// Sidekiq and this library: `retry_count` absent until the first failure and 0 after it; `failed_at`
    /// at the first failure, `retried_at` at later ones.
    case sidekiq
    /// Verk 1.x (Elixir): `args` as a JSON string holding the array, `max_retry_count`, integer-second
    /// timestamps, `retry_count` 0 at enqueue and 1 after the first failure; `failed_at` at the first
    /// failure, `retried_at` at later ones (Verk's queue_manager.ex).
    case verk
    /// Exq: `retry_count` 1 after the first failure, `failed_at` set once and `retried_at` at every failure,
    /// float seconds (Exq's job_queue.ex).
    case exq

    /// Verk always writes `max_retry_count` (null when unset) and, from 1.4, a string `args`. Exq writes
    /// `processor` (null) whenever it re-encodes a job, and its fresh jobs carry a UUID jid and no
    /// `created_at`, which every Sidekiq client writes.
    public init(of fields: JSONObject) {
        if fields["max_retry_count"] != nil || fields["args"]?.stringValue != nil {
            self = .verk
        } else if fields["processor"] != nil || (fields["created_at"] == nil && Self.isUUID(fields["jid"]?.stringValue)) {
            self = .exq
        } else {
            self = .sidekiq
        }
    }

    /// The `retry_count` to store after one more failure.
    func retryCount(afterFailureWith previous: Int?) -> Int {
        // `retry_count` is whatever the payload says: at Int.max, + 1 would trap the supervisor of every node
        // that fetches the job (it would crash, recover the job and fetch it again).
        func next(_ n: Int) -> Int { n < .max ? n + 1 : n }
        switch self {
        case .sidekiq: return previous.map(next) ?? 0
        case .verk, .exq: return next(previous ?? 0)
        }
    }

    /// A stored `retry_count` in Sidekiq's terms (0 after the first failure), which backoff, retry limits and
    /// a worker's `retryAt` use whoever wrote the job; nil before any failure.
    func sidekiqRetryCount(stored: Int?) -> Int? {
        switch self {
        case .sidekiq: return stored
        case .verk, .exq: return stored.flatMap { $0 >= 1 ? $0 - 1 : nil }
        }
    }

    /// Which of `failed_at` and `retried_at` a failure sets, given the count before and after it.
    func failureStamps(previousCount: Int?, newCount: Int, hasFailedAt: Bool) -> (failedAt: Bool, retriedAt: Bool) {
        switch self {
        case .sidekiq: return previousCount == nil ? (true, false) : (false, true)
        case .verk: return newCount > 1 ? (false, true) : (true, false)
        case .exq: return (!hasFailedAt, true)
        }
    }

    /// The form this dialect's timestamps always take; nil for Sidekiq's, whose jobs say it themselves
    /// (float seconds, or Sidekiq 8's integer milliseconds).
    var timestampFormat: TimestampFormat? {
        switch self {
        case .sidekiq: return nil
        case .verk: return .wholeSeconds
        case .exq: return .seconds
        }
    }

    /// `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx` in hex: Exq's jids (UUID v4).
    static func isUUID(_ text: String?) -> Bool {
        guard let text else { return false }
        let chars = Array(text.utf8)
        guard chars.count == 36 else { return false }
        for (i, c) in chars.enumerated() {
            if [8, 13, 18, 23].contains(i) {
                guard c == UInt8(ascii: "-") else { return false }
            } else {
                guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(c) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(c)
                        || (UInt8(ascii: "A")...UInt8(ascii: "F")).contains(c) else { return false }
            }
        }
        return true
    }
}
