import VerkShared

/// Counts processed and failed jobs in memory and turns them into one batch of INCRBYs: totals, Sidekiq's
/// daily keys (with their five-year expiry) and Verk's per-queue hash. Sidekiq counts every executed job
/// as processed, failed or not.
struct StatsBuffer {
    private(set) var processed = 0
    private(set) var failed = 0
    /// Per job class, for Sidekiq 7's Metrics page: executions, failures, milliseconds of successes.
    private(set) var byClass: [String: (executions: Int, failures: Int, millis: Int)] = [:]

    /// `payload` names the class (read from its bytes, not parsed); `micros` is the run time, when known.
    mutating func record(failed didFail: Bool, payload: [UInt8]? = nil, micros: UInt64 = 0) {
        processed += 1
        if didFail { failed += 1 }
        guard let payload, let range = JobClassScanner.classRange(in: payload) else { return }
        let name = String(decoding: payload[range], as: UTF8.self)
        var entry = byClass[name] ?? (0, 0, 0)
        entry.executions += 1
        if didFail { entry.failures += 1 } else { entry.millis += Int(micros / 1000) }
        byClass[name] = entry
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
        let peers = PeerStatKeys(keys: keys, now: now)
        if processed > failed {
            commands += [RedisCommand("INCRBY", peers.processedRealtime, processed - failed),
                         RedisCommand("EXPIRE", peers.processedRealtime, PeerStatKeys.realtimeTTL)]
        }
        if failed > 0 {
            commands += [RedisCommand("INCRBY", peers.failedRealtime, failed), RedisCommand("EXPIRE", peers.failedRealtime, PeerStatKeys.realtimeTTL)]
        }
        if !byClass.isEmpty {
            for (bucket, ttl) in [(peers.minute, PeerStatKeys.minuteTTL), (peers.tenMinutes, PeerStatKeys.tenMinuteTTL)] {
                for (name, counts) in byClass {
                    commands.append(RedisCommand("HINCRBY", bucket, name + "|p", counts.executions))
                    if counts.failures > 0 { commands.append(RedisCommand("HINCRBY", bucket, name + "|f", counts.failures)) }
                    if counts.millis > 0 { commands.append(RedisCommand("HINCRBY", bucket, name + "|ms", counts.millis)) }
                }
                commands.append(RedisCommand("EXPIRE", bucket, ttl))
            }
        }
        return commands
    }
}
