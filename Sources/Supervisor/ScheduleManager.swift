import Logging
import VerkShared

/// Moves due jobs from `retry` and `schedule` back to their queues. Each batch is claimed and pushed by one
/// Lua script (`Scripts.pushFromSet`): a member's ZREM is its ownership, so any number of nodes — ours or
/// Sidekiq's pollers — can poll the same sets and each job is pushed exactly once.
final class ScheduleManager {
    private let redis: RedisConnection
    private let keys: KeySpace
    private let pollInterval: Double
    private let policy: RetryPolicy
    private let stop: StopSignal
    private let logger: Logger
    static let batchSize = 100

    init(redis: RedisConnection, configuration: VerkConfiguration, stop: StopSignal, logger: Logger) {
        self.redis = redis
        keys = KeySpace(namespace: configuration.namespace)
        pollInterval = configuration.pollInterval
        policy = configuration.retryPolicy
        self.stop = stop
        self.logger = logger
    }

    func run() {
        // Jittered (±50%) so that many nodes started together do not poll in lockstep.
        while !stop.wait(pollInterval * Double.random(in: 0.5...1.5)) {
            // A quiet node moves nothing into queues, as Sidekiq's quiet stops its poller.
            if stop.isQuiet { continue }
            do {
                for key in [keys.retry, keys.schedule] { try enqueueDue(from: key) }
            } catch {
                logger.error("cannot move due jobs", metadata: ["error": "\(error)"])
            }
        }
    }

    /// Moves every job due now from one set; returns how many were moved.
    @discardableResult
    func enqueueDue(from key: String, now: Double = Timestamp.now()) throws(RedisError) -> Int {
        var moved = 0
        while true {
            let reply = try redis.command("ZRANGEBYSCORE", key, "-inf", now, "LIMIT", 0, Self.batchSize)
            let members = (reply.array ?? []).compactMap(\.bytes)
            if members.isEmpty { break }
            var queueKeys: [String] = []
            var args: [any RedisArgument] = []
            for member in members {
                var job: Job
                let queue: String
                do {
                    job = try Job(parsing: member)
                    queue = try job.pushQueue()
                } catch {
                    try park(member, from: key, reason: error, now: now)
                    continue
                }
                // In the job's own form (Verk's whole seconds, Sidekiq 8's milliseconds), so its writer reads it.
                job.setTimestamp(.enqueuedAt, Timestamp.now(), defaultFormat: policy.timestamps)
                queueKeys.append(keys.queue(queue))
                args += [member, job.encoded(), queue]
            }
            if !queueKeys.isEmpty {
                let n = try redis.eval(ScriptCall(Scripts.pushFromSet, keys: [key, keys.queues] + queueKeys, args: args)).int ?? 0
                moved += n
            }
            if members.count < Self.batchSize { break }
        }
        if moved > 0 { logger.debug("enqueued due jobs", metadata: ["set": "\(key)", "count": "\(moved)"]) }
        return moved
    }

    /// A member that can never run (not a job, or a queue that names none) goes to the dead set as a parked
    /// job with the reason, claimed by its ZREM like a due job, rather than block the poller or be lost.
    private func park(_ member: [UInt8], from key: String, reason: JobDecodingError, now: Double) throws(RedisError) {
        let set = key == keys.retry ? "retry" : "schedule"
        let parked = ParkedPayload.park(member, reason: reason, origin: .set(set), now: now, timestamps: policy.timestamps)
        logger.error("a \(set) set member can never run; parked it in the dead set",
                     metadata: ["reason": "\(reason)", "jid": "\(parked.jid ?? "")", "bytes": "\(member.count)"])
        try redis.eval(ScriptCall(Scripts.killFromSet, keys: [key, keys.dead],
                                  args: [member, parked.encoded(), now] + DeadSetTrim(policy: policy).arguments(now: now)))
    }
}
