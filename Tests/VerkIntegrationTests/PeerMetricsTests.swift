import Foundation
import Testing
import VerkShared
@testable import VerkSupervisor

/// What Sidekiq 7's Metrics page (`Sidekiq::Metrics::Query`: `j|YYMMDD|H:MM` and `j|YYMMDD|H:M` hashes with
/// `CLASS|p`, `CLASS|f`, `CLASS|ms`) and Exq's realtime stats (`stat:processed_rt:…`, 120 s) read.
@Suite struct PeerMetricsTests {
    @Test func executionMetricsAndRealtimeCountersAreWrittenAsTheyReadThem() throws {
        let ns = TestRedis.freshNamespace()
        let keys = KeySpace(namespace: ns)
        let conn = try TestRedis.connection()
        let node = try DemoNode(namespace: ns, queues: ["default:2"])
        let client = try VerkClient(url: TestRedis.url, namespace: ns)
        try client.enqueue(many: (0..<3).map { _ in Job(className: "SleepWorker", args: [20]) })
        try client.enqueue(Job(className: "FailWorker", args: ["boom"], retry: .disabled))
        try eventually("four jobs to be counted") { try conn.command("GET", keys.processed).int == 4 }
        let now = Timestamp.now()
        let bucket = PeerStatKeys(keys: keys, now: now)
        // The flush may have fallen in the previous minute: look at both.
        let earlier = PeerStatKeys(keys: keys, now: now - 60)
        func field(_ name: String) throws -> Int {
            try [bucket.minute, earlier.minute].reduce(0) { $0 + (try conn.command("HGET", $1, name).int ?? 0) }
        }
        #expect(try field("SleepWorker|p") == 3 && field("SleepWorker|f") == 0 && field("SleepWorker|ms") >= 60)
        #expect(try field("FailWorker|p") == 1 && field("FailWorker|f") == 1 && field("FailWorker|ms") == 0)
        #expect(bucket.minute.range(of: #"j\|\d{6}\|\d{1,2}:\d{2}$"#, options: .regularExpression) != nil, "\(bucket.minute)")
        #expect(bucket.tenMinutes.range(of: #"j\|\d{6}\|\d{1,2}:\d$"#, options: .regularExpression) != nil, "\(bucket.tenMinutes)")
        let ttl = try conn.command("TTL", bucket.minute).int ?? (try conn.command("TTL", earlier.minute).int ?? -2)
        #expect(ttl > 0 && ttl <= 8 * 3600)
        let realtime = (try conn.command("KEYS", keys.realtimeProcessed("*")).array ?? []).compactMap(\.string)
        #expect(!realtime.isEmpty && realtime.allSatisfy { $0.range(of: #"stat:processed_rt:\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ$"#, options: .regularExpression) != nil })
        let counted = try realtime.reduce(0) { $0 + (try conn.command("GET", $1).int ?? 0) }
        #expect(counted == 3, "Exq counts successes as processed")
        #expect(try conn.command("TTL", realtime[0]).int ?? 0 <= 120)
        #expect(node.stop() == 0)
    }
}
