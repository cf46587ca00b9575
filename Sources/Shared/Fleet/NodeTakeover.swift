/// Takes over a dead node: its in-progress jobs go back to the head of their queues in one atomic step per
/// node (`Scripts.takeOverNode`, which is its own lock: exactly one taker), it leaves the registry
/// (`verk:nodes` and its queue set), and its Sidekiq process records are removed. A node is dead when its
/// last beat is older than the expiry **and** its lease has lapsed; a live node is never touched.
/// Used by every node's heartbeat (automatic) and by `verk recover` (manual).
package struct NodeTakeover: Sendable {
    package let keys: KeySpace

    package init(keys: KeySpace) { self.keys = keys }

    package enum Outcome: Sendable, Equatable {
        /// Its jobs were moved back to their queues.
        case tookOver(jobs: Int)
        /// Its lease is held, or it beat after the cutoff: alive.
        case alive
    }

    /// Nodes whose last beat is older than `cutoff` (epoch seconds), oldest first.
    package func expiredNodes(_ redis: RedisConnection, cutoff: Double) throws(RedisError) -> [String] {
        (try redis.command("ZRANGEBYSCORE", keys.nodes, "-inf", "(\(cutoff)").array ?? []).compactMap(\.string)
    }

    /// Takes `node` over if it beat before `cutoff` and holds no lease.
    package func takeOver(_ node: String, _ redis: RedisConnection, cutoff: Double) throws(RedisError) -> Outcome {
        // The script refuses (-2) when the node's queue set changed after it was read: read it again.
        for _ in 0..<10 {
            let queues = (try redis.command("SMEMBERS", keys.nodeQueues(node)).array ?? []).compactMap(\.string).sorted()
            var scriptKeys = [keys.nodes, keys.nodeLease(node), keys.nodeQueues(node), keys.queues]
            for queue in queues { scriptKeys += keys.nodeLists(queue: queue, node: node) + [keys.queue(queue)] }
            let reply = try redis.eval(ScriptCall(Scripts.takeOverNode, keys: scriptKeys, args: [node, cutoff] + queues)).int ?? -1
            if reply == -2 { continue }
            guard reply >= 0 else { return .alive }
            try removeProcessRecords(of: node, redis)
            return .tookOver(jobs: reply)
        }
        return .alive
    }

    /// Sidekiq's records of the node's processes (identities `NODE:pid:…`), so its Busy page and
    /// `verk processes` stop showing a node that is gone. Sidekiq would prune them too, later.
    private func removeProcessRecords(of node: String, _ redis: RedisConnection) throws(RedisError) {
        let identities = (try redis.command("SMEMBERS", keys.processes).array ?? []).compactMap(\.string)
            .filter { $0.hasPrefix(node + ":") }
        guard !identities.isEmpty else { return }
        var commands = [RedisCommand("SREM", [keys.processes] + identities)]
        for identity in identities {
            commands.append(RedisCommand("DEL", keys.process(identity), keys.processWorkersLegacy(identity), keys.processWork(identity)))
        }
        try redis.pipeline(commands)
    }
}
