import Glibc
import VerkShared

/// The time-bucketed stat keys other dashboards read, named from one clock reading (UTC):
/// - Sidekiq 7's execution metrics (its Metrics page, `Sidekiq::Metrics::Query`): hashes `j|YYMMDD|H:MM`
///   (one per minute, kept 8 hours) and `j|YYMMDD|H:M` (the minute's tens digit: one per ten minutes,
///   kept 7 days), with fields `CLASS|p` (executions, failures included), `CLASS|f` (failures) and
///   `CLASS|ms` (milliseconds of the executions that did not fail);
/// - Exq's realtime counters (its API's realtime stats): `stat:processed_rt:YYYY-MM-DD HH:MM:SSZ` and
///   `stat:failed_rt:…`, per second, kept 120 s. Exq counts successes as processed.
struct PeerStatKeys {
    static let minuteTTL = 8 * 3600
    static let tenMinuteTTL = 7 * 24 * 3600
    static let realtimeTTL = 120

    let minute: String
    let tenMinutes: String
    let processedRealtime: String
    let failedRealtime: String

    init(keys: KeySpace, now: Double) {
        var t = time_t(now)
        var tm = tm()
        gmtime_r(&t, &tm)
        func two(_ n: Int32) -> String { TextFormat.zeroPadded(Int(n), width: 2) }
        let day = two(tm.tm_year % 100) + two(tm.tm_mon + 1) + two(tm.tm_mday)
        minute = keys.sidekiqMetrics(bucket: "\(day)|\(tm.tm_hour):" + two(tm.tm_min))
        tenMinutes = keys.sidekiqMetrics(bucket: "\(day)|\(tm.tm_hour):\(Int(tm.tm_min) / 10)")
        let second = TextFormat.zeroPadded(Int(tm.tm_year) + 1900, width: 4) + "-" + two(tm.tm_mon + 1) + "-" + two(tm.tm_mday)
            + " " + two(tm.tm_hour) + ":" + two(tm.tm_min) + ":" + two(tm.tm_sec) + "Z"
        processedRealtime = keys.realtimeProcessed(second)
        failedRealtime = keys.realtimeFailed(second)
    }
}
