/// One of Sidekiq's sorted sets of jobs (`schedule`, `retry`, `dead`) with the actions its Web UI offers.
/// Members are never rewritten in place: every change removes the exact old string and adds a new one,
/// atomically, and a removal that finds nothing means someone else (a poller, the Web) owns the job now.
public struct JobSet: Sendable {
    public enum Kind: String, Sendable, CaseIterable {
        case scheduled, retries, dead
    }

    public struct Entry: Sendable, Equatable {
        /// The exact stored string: its bytes are its identity.
        public var member: [UInt8]
        public var score: Double
        /// Nil when the member is not a valid job (Sidekiq puts unparsable payloads in `dead` as they are; Verk
        /// parks them as jobs, `ParkedPayload`).
        public var job: Job?
        /// The job's jid; for a member that is not a valid job but still a JSON object, its `jid` field.
        public var jid: String? {
            job?.jid ?? (try? JSONParser.parse(member))?["jid"].flatMap { $0.stringValue ?? $0.numberValue?.literal }
        }
    }

    public let kind: Kind
    public let keys: KeySpace
    public var policy: RetryPolicy

    public init(_ kind: Kind, keys: KeySpace, policy: RetryPolicy = RetryPolicy()) {
        self.kind = kind
        self.keys = keys
        self.policy = policy
    }

    public var key: String {
        switch kind {
        case .scheduled: return keys.schedule
        case .retries: return keys.retry
        case .dead: return keys.dead
        }
    }

    public func size(_ conn: RedisConnection) throws(RedisError) -> Int {
        try conn.command("ZCARD", key).int ?? 0
    }

    /// Entries in the Web's order: due first for schedule and retry, newest first for dead.
    /// At most `limit` entries: none for 0 or less (a range ending at -1 would be the whole set).
    public func list(_ conn: RedisConnection, limit: Int = 100) throws(RedisError) -> [Entry] {
        guard limit > 0 else { return [] }
        let command = kind == .dead ? "ZREVRANGE" : "ZRANGE"
        let reply = try conn.command(command, key, 0, limit - 1, "WITHSCORES")
        return Self.entries(from: reply.array ?? [])
    }

    /// Finds a job by jid with ZSCAN (the jid appears literally in the member), then checks the parsed jid.
    public func find(_ conn: RedisConnection, jid: String) throws(RedisError) -> Entry? {
        var cursor = "0"
        repeat {
            let reply = try conn.command("ZSCAN", key, cursor, "MATCH", "*" + Self.globEscape(jid) + "*", "COUNT", 1000)
            guard let parts = reply.array, parts.count == 2 else {
                throw .unexpectedReply(command: "ZSCAN", expected: "cursor and entries", got: reply.kind)
            }
            cursor = parts[0].string ?? "0"
            if let entry = Self.entries(from: parts[1].array ?? []).first(where: { $0.jid == jid }) { return entry }
        } while cursor != "0"
        return nil
    }

    /// "Retry now" / "Add to queue": back to its queue at once with a fresh `enqueued_at`; from the retry
    /// and dead sets `retry_count` goes down by one, as the Web does, so the next failure counts the same.
    /// False, with nothing moved, for a member that is not a job or whose `queue` names no queue.
    @discardableResult
    public func enqueueNow(_ conn: RedisConnection, _ entry: Entry, now: Double = Timestamp.now()) throws(RedisError) -> Bool {
        guard var job = entry.job, let queue = try? job.pushQueue() else { return false }
        // At Int.min (a hostile payload), - 1 would trap: the count stays.
        if kind != .scheduled, let count = job.retryCount { job.retryCount = count > .min ? count - 1 : count }
        job.setTimestamp(.enqueuedAt, now, defaultFormat: policy.timestamps)
        let moved = try conn.eval(ScriptCall(Scripts.pushFromSet, keys: [key, keys.queues, keys.queue(queue)],
                                             args: [entry.member, job.encoded(), queue]))
        return moved.int == 1
    }

    @discardableResult
    public func delete(_ conn: RedisConnection, _ entry: Entry) throws(RedisError) -> Bool {
        try conn.command("ZREM", key, entry.member).int == 1
    }

    /// Moves a job to the dead set (from schedule or retry), trimmed by the policy's limits.
    @discardableResult
    public func kill(_ conn: RedisConnection, _ entry: Entry, now: Double = Timestamp.now()) throws(RedisError) -> Bool {
        guard kind != .dead else { return false }
        let moved = try conn.eval(ScriptCall(Scripts.killFromSet, keys: [key, keys.dead],
                                             args: [entry.member, entry.member, now] + DeadSetTrim(policy: policy).arguments(now: now)))
        return moved.int == 1
    }

    /// Removes every entry; returns how many there were.
    @discardableResult
    public func clear(_ conn: RedisConnection) throws(RedisError) -> Int {
        let replies = try conn.pipeline([RedisCommand("ZCARD", key), RedisCommand("DEL", key)])
        return replies[0].int ?? 0
    }

    static func entries(from flat: [RedisReply]) -> [Entry] {
        var out: [Entry] = []
        var i = 0
        while i + 1 < flat.count {
            if let member = flat[i].bytes {
                out.append(Entry(member: member, score: flat[i + 1].double ?? 0, job: try? Job(parsing: member)))
            }
            i += 2
        }
        return out
    }

    static func globEscape(_ s: String) -> String {
        var out = ""
        for c in s {
            if "*?[]\\".contains(c) { out.append("\\") }
            out.append(c)
        }
        return out
    }
}
