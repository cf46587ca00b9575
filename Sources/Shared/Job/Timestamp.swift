import Foundation

/// Job timestamps. Written as float epoch seconds (always with a `.`), which Sidekiq 6, 7 and 8 all read;
/// read as Sidekiq 8 does: a JSON integer is milliseconds, a JSON float is seconds.
public enum Timestamp {
    public static func now() -> Double { Date().timeIntervalSince1970 }

    public static func json(_ seconds: Double) -> JSONValue { .double(seconds) }

    public static func seconds(from value: JSONValue?) -> Double? {
        guard let n = value?.numberValue, let d = n.doubleValue else { return nil }
        return n.isInteger ? d / 1000 : d
    }

    /// UTC `YYYY-MM-DD`, the suffix of Sidekiq's daily stat keys.
    public static func utcDay(_ seconds: Double = now()) -> String {
        var t = time_t(seconds)
        var tm = tm()
        gmtime_r(&t, &tm)
        return String(format: "%04d-%02d-%02d", Int(tm.tm_year) + 1900, Int(tm.tm_mon) + 1, Int(tm.tm_mday))
    }
}
