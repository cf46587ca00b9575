/// Verk's per-queue figures (as Verk's `queue_stats` keeps them): the totals the supervisor writes to
/// `verk:stat:queue:NAME`, how many of the queue's jobs run now, its size and latency, and whether it is
/// paused. `read` covers every known queue (the `queues` set and the paused set) in two round trips.
public struct QueueStats: Sendable, Equatable {
    public var name: String
    public var size: Int
    /// Seconds since the oldest job in the queue was enqueued (0 for an empty queue).
    public var latency: Double
    public var processed: Int
    public var failed: Int
    /// Jobs of this queue running now, in the work hashes of live processes.
    public var running: Int
    public var paused: Bool

    public init(name: String, size: Int = 0, latency: Double = 0, processed: Int = 0, failed: Int = 0, running: Int = 0, paused: Bool = false) {
        self.name = name
        self.size = size
        self.latency = latency
        self.processed = processed
        self.failed = failed
        self.running = running
        self.paused = paused
    }

    /// Every known queue, sorted by name.
    public static func read(_ conn: RedisConnection, keys: KeySpace, now: Double = Timestamp.now()) throws(RedisError) -> [QueueStats] {
        let first = try conn.pipeline([
            RedisCommand("SMEMBERS", keys.queues), RedisCommand("SMEMBERS", keys.paused), RedisCommand("SMEMBERS", keys.processes),
        ])
        let known = Set((first[0].array ?? []).compactMap(\.string))
        let paused = Set((first[1].array ?? []).compactMap(\.string))
        let names = known.union(paused).sorted()
        let identities = (first[2].array ?? []).compactMap(\.string)

        // Second round trip: a fixed group of commands per queue, then per process, read back by stride.
        let perQueue = 4, perProcess = 3
        var second: [RedisCommand] = []
        for name in names {
            second += [RedisCommand("LLEN", keys.queue(name)), RedisCommand("LRANGE", keys.queue(name), -1, -1),
                       RedisCommand("HGET", keys.queueStats(name), "processed"), RedisCommand("HGET", keys.queueStats(name), "failed")]
        }
        for identity in identities {
            second += [RedisCommand("EXISTS", keys.process(identity)), RedisCommand("HVALS", keys.processWork(identity)),
                       RedisCommand("HVALS", keys.processWorkersLegacy(identity))]
        }
        let replies = try conn.pipeline(second)

        var running: [String: Int] = [:]
        for p in identities.indices {
            let base = names.count * perQueue + p * perProcess
            // A process whose record expired is dead; its work hash may linger for a moment.
            guard replies[base].int == 1 else { continue }
            // Verk writes both names; Ruby Sidekiq 6.4.1 only the legacy one.
            let work = replies[base + 1].array ?? []
            for entry in work.isEmpty ? (replies[base + 2].array ?? []) : work {
                if let queue = queueOfWork(entry.bytes) { running[queue, default: 0] += 1 }
            }
        }
        return names.enumerated().map { i, name in
            let base = i * perQueue
            return QueueStats(name: name, size: replies[base].int ?? 0,
                              latency: latency(oldest: replies[base + 1].array?.first?.bytes, now: now),
                              processed: replies[base + 2].int ?? 0, failed: replies[base + 3].int ?? 0,
                              running: running[name] ?? 0, paused: paused.contains(name))
        }
    }

    /// Latency as Sidekiq computes it: now minus the `enqueued_at` of the job at the pop end, in seconds or
    /// milliseconds (`Timestamp`). Read from the JSON alone, as Sidekiq does: a job that cannot run is late too.
    package static func latency(oldest: [UInt8]?, now: Double) -> Double {
        guard let oldest, let enqueuedAt = Timestamp.seconds(from: (try? JSONParser.parse(oldest))?["enqueued_at"]) else { return 0 }
        return max(0, now - enqueuedAt)
    }

    /// The `queue` member of one work-hash value (`{"queue":…,"payload":…,"run_at":…}`); nil if unreadable.
    static func queueOfWork(_ value: [UInt8]?) -> String? {
        guard let value, let parsed = try? JSONParser.parse(value) else { return nil }
        return parsed["queue"]?.stringValue
    }

    /// One JSON object: queue name → `{size, latency, processed, failed, running, paused}`.
    public static func json(_ all: [QueueStats]) -> JSONValue {
        var object = JSONObject()
        for q in all {
            object[q.name] = [
                "size": .int(q.size), "latency": .double((q.latency * 1000).rounded() / 1000), "processed": .int(q.processed),
                "failed": .int(q.failed), "running": .int(q.running), "paused": .bool(q.paused),
            ]
        }
        return .object(object)
    }
}
