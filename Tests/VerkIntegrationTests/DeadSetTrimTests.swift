import Foundation
import Testing
import VerkShared

/// Every path into the dead set trims it by `max_dead_jobs` and `dead_timeout`, in the same script.
@Suite struct DeadSetTrimTests {
    @Test func killingRetriesKeepsOnlyTheNewestAndDropsTheExpired() throws {
        let ns = TestRedis.freshNamespace()
        let keys = KeySpace(namespace: ns)
        let conn = try TestRedis.connection()
        let policy = RetryPolicy(maxRetries: 25, maxDeadJobs: 3, deadTimeout: 3600)
        let now = Timestamp.now()
        // Already dead long ago: older than dead_timeout, so the next trim removes it.
        try conn.command("ZADD", keys.dead, now - 7200, Job(className: "Old", args: []).encoded())
        for i in 0..<5 {
            try conn.command("ZADD", keys.retry, now + Double(i), Job(className: "R\(i)", args: []).encoded())
        }
        let retries = JobSet(.retries, keys: keys, policy: policy)
        for (i, entry) in try retries.list(conn).enumerated() {
            #expect(try retries.kill(conn, entry, now: now + Double(i)))
        }
        let dead = JobSet(.dead, keys: keys, policy: policy)
        let kept = try dead.list(conn).compactMap { $0.job?.className }
        #expect(Set(kept) == ["R2", "R3", "R4"], "the three newest, and nothing older than dead_timeout: \(kept)")
    }
}
