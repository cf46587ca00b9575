/// Runtime queue control, the operator's side: pause and resume queues fleet-wide, and add or remove
/// queues on every node or on one. Commands are stored in Redis (KeySpace: `paused`, `queueOverrides`,
/// `queueOverrides(node:)`) and nodes apply them when their watcher next polls `snapshot(node:)`, so they
/// reach nodes started later and survive restarts. Names and concurrencies follow the configuration's
/// rules and messages (`QueueConfiguration.validate()`).
///
/// Not `Sendable`: it uses the caller's connection, which belongs to one thread.
public struct QueueControl {
    private let redis: RedisConnection
    private let keys: KeySpace

    public init(redis: RedisConnection, keys: KeySpace) {
        self.redis = redis
        self.keys = keys
    }

    // MARK: Pause

    /// Fleet-wide: every node stops fetching `queue` within one poll; enqueues still accepted; survives restarts.
    public func pause(_ queue: String) throws {
        try Self.validate(queue: queue)
        try redis.command("SADD", keys.paused, queue)
    }

    public func resume(_ queue: String) throws {
        try Self.validate(queue: queue)
        try redis.command("SREM", keys.paused, queue)
    }

    public func pausedQueues() throws -> Set<String> {
        try Self.members(try redis.command("SMEMBERS", keys.paused), command: "SMEMBERS \(keys.paused)")
    }

    // MARK: Add and remove

    /// node nil = every node (fleet-wide, also nodes started later); otherwise that node id only.
    public func addQueue(_ name: String, concurrency: Int, node: String? = nil) throws {
        try QueueConfiguration(name, concurrency: concurrency).validate()
        try set(name, .add(concurrency: concurrency), node: node)
    }

    public func removeQueue(_ name: String, node: String? = nil) throws {
        try Self.validate(queue: name)
        try set(name, .removed, node: node)
    }

    /// Forgets what was said at runtime about `name`, so the configuration decides again: fleet-wide
    /// (node nil) this deletes the fleet entry and every node's own entry; otherwise only that node's.
    /// Without it a runtime entry would outlive a redeploy that changed the configured concurrency.
    public func resetQueue(_ name: String, node: String? = nil) throws {
        try Self.validate(queue: name)
        try set(name, nil, node: node)
    }

    /// Writes (or with nil deletes) one entry. Fleet-wide goes through one script that also clears every
    /// node's entry for the queue, so the latest command wins; per node, the index of nodes with their own
    /// entries is updated in the same transaction as the entry.
    private func set(_ queue: String, _ entry: QueueOverride?, node: String?) throws {
        guard let node else {
            let affixes = keys.nodeQueueOverridesAffixes
            try redis.eval(ScriptCall(Scripts.setFleetQueueOverride,
                                      keys: [keys.queueOverrides, keys.nodes, keys.queueOverrideNodes],
                                      args: [queue, entry?.redisValue ?? "", affixes.prefix, affixes.suffix]))
            return
        }
        try Self.validate(node: node)
        let hash = keys.queueOverrides(node: node)
        let writes = entry.map { [RedisCommand("HSET", hash, queue, $0.redisValue), RedisCommand("SADD", keys.queueOverrideNodes, node)] }
            ?? [RedisCommand("HDEL", hash, queue)]
        let replies = try redis.pipeline([RedisCommand("MULTI")] + writes + [RedisCommand("EXEC")])
        guard let results = replies.last?.array else {
            throw RedisError.unexpectedReply(command: "EXEC (queue command for node \(node))", expected: "an array",
                                             got: replies.last?.kind ?? "nothing")
        }
        if let message = results.lazy.compactMap(\.errorMessage).first {
            throw RedisError.server(command: "\(writes[0].name) \(hash)", message: message)
        }
    }

    // MARK: Reading

    /// What a node was told at runtime: fleet-wide entries overlaid by that node's own.
    public func overrides(node: String) throws -> QueueOverrides {
        try Self.validate(node: node)
        let replies = try redis.pipeline(overrideReads(node: node))
        return try overrides(from: replies, node: node)
    }

    /// Paused set and overrides for one node in ONE round trip (a pipeline): the watcher calls this every poll.
    public func snapshot(node: String) throws -> (paused: Set<String>, overrides: QueueOverrides) {
        try Self.validate(node: node)
        let replies = try redis.pipeline([RedisCommand("SMEMBERS", keys.paused)] + overrideReads(node: node))
        let paused = try Self.members(replies[0], command: "SMEMBERS \(keys.paused)")
        return (paused, try overrides(from: Array(replies[1...]), node: node))
    }

    private func overrideReads(node: String) -> [RedisCommand] {
        [RedisCommand("HGETALL", keys.queueOverrides), RedisCommand("HGETALL", keys.queueOverrides(node: node))]
    }

    /// The replies of `overrideReads`, fleet-wide first so the node's own entries win.
    private func overrides(from replies: [RedisReply], node: String) throws -> QueueOverrides {
        let hashKeys = [keys.queueOverrides, keys.queueOverrides(node: node)]
        var hashes: [(key: String, entries: [(field: String, value: String)])] = []
        for (key, reply) in zip(hashKeys, replies) {
            hashes.append((key, try Self.fieldsAndValues(reply, command: "HGETALL \(key)")))
        }
        return QueueOverrides.overlay(hashes)
    }

    // MARK: Checks and reply shapes

    static func validate(queue: String) throws(ConfigurationError) {
        // The concurrency is not part of the command; any valid one lets the name be checked alone.
        try QueueConfiguration(queue, concurrency: 1).validate()
    }

    /// The configuration's rule for `node_id`, since a node id becomes part of a key name.
    static func validate(node: String) throws(ConfigurationError) {
        guard !node.isEmpty, !node.contains(where: \.isWhitespace) else {
            throw .invalid(field: "node_id", value: node, reason: "must be non-empty with no spaces")
        }
    }

    private static func members(_ reply: RedisReply, command: String) throws(RedisError) -> Set<String> {
        if let message = reply.errorMessage { throw .server(command: command, message: message) }
        guard let elements = reply.array else { throw .unexpectedReply(command: command, expected: "a set", got: reply.kind) }
        return Set(elements.compactMap(\.string))
    }

    private static func fieldsAndValues(_ reply: RedisReply, command: String) throws(RedisError) -> [(field: String, value: String)] {
        if let message = reply.errorMessage { throw .server(command: command, message: message) }
        guard let flat = reply.array else { throw .unexpectedReply(command: command, expected: "a hash", got: reply.kind) }
        return stride(from: 0, to: flat.count - 1, by: 2).compactMap { i in
            guard let field = flat[i].string, let value = flat[i + 1].string else { return nil }
            return (field, value)
        }
    }
}
