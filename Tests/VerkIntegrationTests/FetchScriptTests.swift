import Foundation
import Testing
import VerkShared
@testable import VerkSupervisor

/// The batch fetch (`fetch_jobs`) moves jobs exactly as that many `LMOVE queue inprogress RIGHT LEFT`
/// would: the oldest first, each job in exactly one of the two lists at every moment, the queue's newer
/// jobs left in place.
@Suite(.serialized) struct FetchScriptTests {
    @Test func aBatchFetchMovesTheOldestJobsInTheSameOrderAsLMOVE() throws {
        let conn = try TestRedis.connection()
        let ns = TestRedis.freshNamespace("fetch")
        let (queue, inProgress, lmoveQueue, lmoveInProgress) = (ns + ":q", ns + ":ip", ns + ":q2", ns + ":ip2")
        // Sidekiq pushes to the head: job 0 is the oldest, at the tail.
        for i in 0..<10 {
            try conn.command("LPUSH", queue, "job\(i)")
            try conn.command("LPUSH", lmoveQueue, "job\(i)")
        }
        try conn.command("LPUSH", inProgress, "running")
        try conn.command("LPUSH", lmoveInProgress, "running")
        let replies = try conn.pipeline(ReliableFetch.items(source: queue, destination: inProgress, count: 4))
        #expect(ReliableFetch.jobs(in: replies[...]).map { String(decoding: $0, as: UTF8.self) } == ["job0", "job1", "job2", "job3"])
        for _ in 0..<4 { try conn.command("LMOVE", lmoveQueue, lmoveInProgress, "RIGHT", "LEFT") }
        let lists = try [queue, inProgress, lmoveQueue, lmoveInProgress].map { try conn.command("LRANGE", $0, 0, -1).array?.compactMap(\.string) ?? [] }
        #expect(lists[0] == lists[2] && lists[1] == lists[3], "the same lists as LMOVE leaves: \(lists)")
        #expect(lists[0] == (4..<10).reversed().map { "job\($0)" })
        // Asking for more than there is empties the queue (and deletes it, as LMOVE does) and says so.
        let rest = try conn.pipeline(ReliableFetch.items(source: queue, destination: inProgress, count: 2_500))
        #expect(rest.count == 3, "at most 1,000 per script call")
        #expect(ReliableFetch.jobs(in: rest[...]).count == 6)
        #expect(try conn.command("EXISTS", queue) == .integer(0))
        #expect(try conn.command("LLEN", inProgress) == .integer(11))
        try conn.command("DEL", queue, inProgress, lmoveQueue, lmoveInProgress)
    }

    @Test func anEmptyQueueFetchesNothing() throws {
        let conn = try TestRedis.connection()
        let ns = TestRedis.freshNamespace("fetch-empty")
        let replies = try conn.pipeline(ReliableFetch.items(source: ns + ":q", destination: ns + ":ip", count: 10))
        #expect(ReliableFetch.jobs(in: replies[...]).isEmpty)
        #expect(try conn.command("EXISTS", ns + ":ip") == .integer(0))
    }
}
