import Logging
import VerkShared

/// At start, this node's leftover in-progress jobs (from a crash or a kill of the previous run with the
/// same node id) go back to the tail of their queues, so they run next. Each batch moves atomically
/// (`Scripts.requeueAll`): a job is always in exactly one of the two lists.
struct NodeRecovery {
    let redis: RedisConnection
    let keys: KeySpace
    let nodeID: String
    let logger: Logger

    /// Registers the node's queues and requeues leftovers of every queue it ever served.
    @discardableResult
    func recover(queues: [String]) throws(RedisError) -> Int {
        let known = (try redis.command("SMEMBERS", keys.nodeQueues(nodeID)).array ?? []).compactMap(\.string)
        var all = queues
        for q in known where !all.contains(q) { all.append(q) }
        try redis.pipeline([
            RedisCommand("SADD", [keys.nodeQueues(nodeID)] + queues),
            RedisCommand("ZADD", keys.nodes, Timestamp.now(), nodeID),
        ])
        var total = 0
        for queue in all {
            var moved = 0
            // In progress, and suspects waiting for or running in quarantine: all back to the queue.
            for list in keys.nodeLists(queue: queue, node: nodeID) {
                while true {
                    let n = try redis.eval(ScriptCall(Scripts.requeueAll, keys: [list, keys.queue(queue), keys.queues],
                                                      args: [queue, 1000])).int ?? 0
                    moved += n
                    if n == 0 { break }
                }
            }
            if moved > 0 { logger.warning("recovered in-progress jobs from a previous run", metadata: ["queue": "\(queue)", "count": "\(moved)"]) }
            total += moved
        }
        return total
    }
}
