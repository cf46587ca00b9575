import Logging
import VerkShared

/// Each heartbeat, finds nodes whose beat is older than `node_expiry` and takes them over: their
/// in-progress jobs go back to the head of their queues (`NodeTakeover`, exactly one taker, a live node
/// never touched), counted in `VerkMetric.takeovers` and `takeoverJobs`. Runs on the heartbeat's thread,
/// with its connection.
struct NodeReaper {
    let takeover: NodeTakeover
    let nodeID: String
    let expiry: Double
    let events: EventBus
    let logger: Logger

    /// Takes over every expired node but this one; returns how many jobs went back to their queues.
    @discardableResult
    func reap(_ redis: RedisConnection, now: Double = Timestamp.now()) throws(RedisError) -> Int {
        var total = 0
        for node in try takeover.expiredNodes(redis, cutoff: now - expiry) where node != nodeID {
            guard case .tookOver(let jobs) = try takeover.takeOver(node, redis, cutoff: now - expiry) else { continue }
            total += jobs
            let metadata: Logger.Metadata = ["dead_node": "\(node)", "jobs": "\(jobs)", "expiry": "\(expiry)s"]
            if jobs > 0 {
                logger.warning("took over a dead node: its in-progress jobs are back at the head of their queues", metadata: metadata)
            } else {
                logger.info("removed a dead node from the registry (it had no jobs in progress)", metadata: metadata)
            }
            events.emit(.nodeTakenOver(node: node, jobs: jobs))
            VerkMetric.count(VerkMetric.takeovers)
            VerkMetric.count(VerkMetric.takeoverJobs, by: jobs)
        }
        return total
    }
}
