/// The dashboard figures, computed the way `Sidekiq::Stats` computes them, in two round trips.
public struct Stats: Sendable, Equatable {
    public struct QueueStats: Sendable, Equatable {
        public var size: Int
        /// Seconds since the oldest job in the queue was enqueued (0 for an empty queue).
        public var latency: Double
    }

    public var processed = 0
    public var failed = 0
    public var enqueued = 0
    public var scheduled = 0
    public var retries = 0
    public var dead = 0
    public var processes = 0
    public var busy = 0
    public var queues: [String: QueueStats] = [:]

    public static func read(_ conn: RedisConnection, keys: KeySpace, now: Double = Timestamp.now()) throws(RedisError) -> Stats {
        let first = try conn.pipeline([
            RedisCommand("GET", keys.processed), RedisCommand("GET", keys.failed),
            RedisCommand("ZCARD", keys.schedule), RedisCommand("ZCARD", keys.retry), RedisCommand("ZCARD", keys.dead),
            RedisCommand("SMEMBERS", keys.queues), RedisCommand("SMEMBERS", keys.processes),
        ])
        var stats = Stats()
        stats.processed = first[0].int ?? 0
        stats.failed = first[1].int ?? 0
        stats.scheduled = first[2].int ?? 0
        stats.retries = first[3].int ?? 0
        stats.dead = first[4].int ?? 0
        let queueNames = (first[5].array ?? []).compactMap(\.string).sorted()
        let processIDs = (first[6].array ?? []).compactMap(\.string)
        stats.processes = processIDs.count
        var second: [RedisCommand] = []
        for q in queueNames {
            second.append(RedisCommand("LLEN", keys.queue(q)))
            second.append(RedisCommand("LRANGE", keys.queue(q), -1, -1))
        }
        for p in processIDs { second.append(RedisCommand("HGET", keys.process(p), "busy")) }
        let replies = try conn.pipeline(second)
        for (i, q) in queueNames.enumerated() {
            let size = replies[2 * i].int ?? 0
            let latency = VerkShared.QueueStats.latency(oldest: replies[2 * i + 1].array?.first?.bytes, now: now)
            stats.queues[q] = QueueStats(size: size, latency: latency)
            stats.enqueued += size
        }
        for i in 0..<processIDs.count { stats.busy += replies[2 * queueNames.count + i].int ?? 0 }
        return stats
    }

    /// One JSON object with exactly the documented keys; `queues` maps a name to `{size, latency}`.
    public var json: JSONValue {
        var qs = JSONObject()
        for name in queues.keys.sorted() {
            let q = queues[name]!
            qs[name] = ["size": .int(q.size), "latency": .double((q.latency * 1000).rounded() / 1000)]
        }
        return [
            "processed": .int(processed), "failed": .int(failed), "enqueued": .int(enqueued),
            "scheduled": .int(scheduled), "retries": .int(retries), "dead": .int(dead),
            "processes": .int(processes), "busy": .int(busy), "queues": .object(qs),
        ]
    }
}
