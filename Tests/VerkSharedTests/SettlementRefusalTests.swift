import Foundation
import Testing
import VerkShared
@testable import VerkSupervisor

/// Moves Redis refuses for a while stay in the batch. The chaos run found acks refused with -LOADING just
/// after a Redis restart, dropped: the finished jobs stayed in progress and ran again at the next
/// reconciliation (a requeue or failure dropped so would have waited there until the node restarted).
@Suite struct SettlementRefusalTests {
    let target = SettlementFixture.target
    let job = SettlementFixture.job

    @Test func movesRefusedWhileRedisLoadsStayForTheNextRoundTrip() {
        var batch = SettlementBatch()
        batch.ack(Array("a1".utf8))
        batch.ack(Array("a2".utf8))
        batch.fail(job, JobFailure(errorClass: "E", message: "boom"))
        batch.requeue([Array("r1".utf8)])
        let plan = batch.plan(to: target, fetch: [], flushStats: false, now: 1_700_000_000)
        var replies = [RedisReply](repeating: .integer(1), count: plan.items.count)
        replies[plan.layout.acks.lowerBound + 1] = .error("LOADING Redis is loading the dataset in memory")
        replies[plan.layout.failures.lowerBound] = .error("READONLY You can't write against a read only replica.")
        replies[plan.layout.requeue.lowerBound] = .error("LOADING Redis is loading the dataset in memory")
        batch.ack(Array("a3".utf8))  // arrives before the replies
        let settled = batch.settle(plan, replies: replies)
        #expect(settled.kept == 3 && settled.recordedFailures.isEmpty)
        #expect(batch.acks == [Array("a2".utf8), Array("a3".utf8)], "the refused ack first, then what came since")
        #expect(batch.failures.map(\.payload) == [job] && batch.requeues == [Array("r1".utf8)])
        let again = batch.plan(to: target, fetch: [], flushStats: false, now: 1_700_000_001)
        _ = batch.settle(again, replies: [RedisReply](repeating: .integer(1), count: again.items.count))
        #expect(!batch.hasMoves, "sent again and accepted, they leave")
    }
}
