import Logging
import VerkShared

/// One queue's conversation with Redis, on the queue manager's connection: each `exchange` sends the
/// settlement batch and a fetch as one pipeline; stats are flushed at most every `statsFlushInterval`;
/// an outage backs off (the batch keeps its moves, which are idempotent, for the next exchange); after a
/// lost connection the in-progress list is reconciled before anything else.
final class SettlementLink {
    private let redis: RedisConnection
    private let target: SettlementBatch.Target
    private let reconciler: InProgressReconciler
    private let stop: StopSignal
    private let logger: Logger
    private(set) var errorsInARow = 0
    /// Set after a connection failure: a fetch may have run without its reply reaching us.
    private(set) var needsReconcile = false
    private var lastStatsFlush = 0.0
    static let statsFlushInterval = 0.1

    init(redis: RedisConnection, target: SettlementBatch.Target, stop: StopSignal, logger: Logger) {
        self.redis = redis
        self.target = target
        reconciler = InProgressReconciler(keys: target.keys, queue: target.queue, inProgress: target.inProgress)
        self.stop = stop
        self.logger = logger
    }

    /// When counted stats are next due to be written.
    var nextStatsFlush: Double { lastStatsFlush + Self.statsFlushInterval }

    func flushesStats(_ batch: SettlementBatch, leaving: Bool, now: Double) -> Bool {
        !batch.stats.isEmpty && (now >= nextStatsFlush || leaving)
    }

    /// The fetch's own connection failed: one of its moves may have lost its reply.
    func connectionLost() { needsReconcile = true }

    /// Sends the batch and `fetch` in one pipeline. Nil when Redis failed.
    func exchange(_ batch: inout SettlementBatch, fetch: [PipelineItem], leaving: Bool, now: Double) -> SettlementBatch.Settled? {
        let flushStats = flushesStats(batch, leaving: leaving, now: now)
        guard batch.hasMoves || flushStats || !fetch.isEmpty else { return nil }
        let plan = batch.plan(to: target, fetch: fetch, flushStats: flushStats, now: now)
        do {
            let replies = plan.items.isEmpty ? [] : try redis.pipeline(plan.items)
            if flushStats { lastStatsFlush = now }
            let settled = batch.settle(plan, replies: replies)
            // Moves Redis refused for now wait in the batch: back off as for an outage, not a busy loop.
            if settled.kept > 0 { failed(RedisError.server(command: "pipeline", message: settled.refused.first ?? "refused")) } else { errorsInARow = 0 }
            return settled
        } catch {
            failed(error)
            return nil
        }
    }

    /// Requeues what the in-progress list holds beyond `known` (in flight or pending in the batch). Call
    /// with the fetch quiesced.
    func reconcile(known: [[UInt8]]) {
        do {
            let moved = try reconciler.reconcile(redis: redis, known: known)
            needsReconcile = false
            if moved > 0 { logger.warning("requeued in-progress jobs whose fetch reply was lost with the connection", metadata: ["count": "\(moved)"]) }
        } catch {
            failed(error)
        }
    }

    private func failed(_ error: Error) {
        if (error as? RedisError)?.isConnectionFailure == true { needsReconcile = true }
        errorsInARow += 1
        if errorsInARow == 1 || errorsInARow % 50 == 0 {
            logger.error("Redis unavailable; jobs stay where they are until it is back", metadata: ["error": "\(error)"])
        }
        // Back off so an outage does not become a busy loop (the connection also backs off as it reconnects).
        _ = stop.wait(min(1.0, 0.05 * Double(errorsInARow)))
    }
}
