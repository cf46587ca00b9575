import FoundationEssentials
import Glibc

/// How a job's timestamps (`created_at`, `enqueued_at`, `failed_at`, `retried_at`) are written. Each system
/// sharing a Redis writes one form and must be able to read back what we write into its jobs.
public enum TimestampFormat: String, Sendable, CaseIterable {
    /// Float epoch seconds, always with a `.`: Sidekiq 6 and 7, Exq, and this library by default.
    /// Sidekiq 6, 7 and 8 all read it.
    case seconds
    /// Integer epoch milliseconds: what Sidekiq 8 writes. Sidekiq 6 and 7 cannot read it.
    case milliseconds
    /// Integer epoch seconds: what Verk 1.x writes. Only ever written into Verk's own jobs: Sidekiq 8 would
    /// read it as milliseconds.
    case wholeSeconds

    /// The forms `timestamp_format` offers (Verk's form is chosen per job, never configured).
    public static let configurable: [String] = [TimestampFormat.seconds, .milliseconds].map(\.rawValue)
}

/// The one place that knows the unit of a job timestamp, both ways.
///
/// Reading: a number at or above 1e11 is milliseconds, anything smaller is seconds. Sidekiq 8 decides by
/// integer vs float, but Verk writes integer *seconds*, so the kind alone cannot tell; the magnitude can:
/// 1e11 seconds is the year 5138 and 1e11 milliseconds is March 1973, so every real timestamp of either
/// unit falls on its own side.
public enum Timestamp {
    static let millisecondsThreshold = 1e11

    public static func now() -> Double { Date().timeIntervalSince1970 }

    /// `seconds` written in `format`. Whole forms round down, as Sidekiq 8 and Verk truncate their clocks;
    /// a time no integer can hold (never a real one) stays a float rather than trap.
    public static func json(_ seconds: Double, as format: TimestampFormat = .seconds) -> JSONValue {
        switch format {
        case .seconds: return .double(seconds)
        case .milliseconds: return Int(exactly: (seconds * 1000).rounded(.down)).map(JSONValue.int) ?? .double(seconds)
        case .wholeSeconds: return Int(exactly: seconds.rounded(.down)).map(JSONValue.int) ?? .double(seconds)
        }
    }

    /// Epoch seconds from a timestamp in any of the three forms; nil for null, absent or not a number.
    public static func seconds(from value: JSONValue?) -> Double? {
        guard let d = value?.numberValue?.doubleValue, d.isFinite else { return nil }
        return abs(d) >= millisecondsThreshold ? d / 1000 : d
    }

    /// The form a timestamp was written in; nil when it is not a number.
    public static func format(of value: JSONValue?) -> TimestampFormat? {
        guard let n = value?.numberValue, let d = n.doubleValue, d.isFinite else { return nil }
        if abs(d) >= millisecondsThreshold { return .milliseconds }
        return n.isInteger ? .wholeSeconds : .seconds
    }

    /// UTC `YYYY-MM-DD`, the suffix of Sidekiq's daily stat keys.
    public static func utcDay(_ seconds: Double = now()) -> String {
        var t = time_t(seconds)
        var tm = tm()
        gmtime_r(&t, &tm)
        return TextFormat.zeroPadded(Int(tm.tm_year) + 1900, width: 4) + "-" + TextFormat.zeroPadded(Int(tm.tm_mon) + 1, width: 2) + "-"
            + TextFormat.zeroPadded(Int(tm.tm_mday), width: 2)
    }
}
