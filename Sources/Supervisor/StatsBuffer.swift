import VerkShared

/// Counts processed and failed jobs in memory and turns them into one batch of INCRBYs: totals, Sidekiq's
/// daily keys (with their five-year expiry) and Verk's per-queue hash. Sidekiq counts every executed job
/// as processed, failed or not.
struct StatsBuffer {
    private(set) var processed = 0
    private(set) var failed = 0

    mutating func record(failed didFail: Bool) {
        processed += 1
        if didFail { failed += 1 }
    }

    var isEmpty: Bool { processed == 0 }

    /// The commands for what has been counted (the caller resets the buffer once Redis took them).
    func commands(keys: KeySpace, queue: String, now: Double) -> [RedisCommand] {
        guard processed > 0 else { return [] }
        let day = Timestamp.utcDay(now)
        var commands = [
            RedisCommand("INCRBY", keys.processed, processed),
            RedisCommand("INCRBY", keys.processed(day: day), processed),
            RedisCommand("EXPIRE", keys.processed(day: day), SidekiqDefaults.dailyStatTTL),
            RedisCommand("HINCRBY", keys.queueStats(queue), "processed", processed),
        ]
        if failed > 0 {
            commands += [
                RedisCommand("INCRBY", keys.failed, failed),
                RedisCommand("INCRBY", keys.failed(day: day), failed),
                RedisCommand("EXPIRE", keys.failed(day: day), SidekiqDefaults.dailyStatTTL),
                RedisCommand("HINCRBY", keys.queueStats(queue), "failed", failed),
            ]
        }
        return commands
    }
}
