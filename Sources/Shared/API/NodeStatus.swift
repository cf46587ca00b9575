/// What `verk processes` shows of each node: the Sidekiq process record its heartbeat writes, and Verk's
/// registry (`verk:nodes`, the node's queue set and in-progress lists), so a dead node whose process record
/// has expired still shows, with the jobs it holds, until it is taken over.
public struct NodeStatus: Sendable, Equatable {
    public var node: String
    /// The Sidekiq identity (`NODE:pid:…`) of its live process record, if any.
    public var identity: String?
    public var pid: Int?
    /// Queue → concurrency.
    public var queues: [String: Int] = [:]
    public var busy = 0
    public var rssKB = 0
    public var quiet = false
    /// Epoch seconds of its last heartbeat (from the registry).
    public var lastBeat: Double?
    /// Jobs in its in-progress lists: running, or sent to its worker processes and not yet started.
    public var inProgress = 0
    /// No heartbeat for longer than its `node_expiry`: dead, to be taken over.
    public var expired = false

    /// Every node in the registry or with a live process record, sorted by id. `defaultExpiry` applies to a
    /// node whose process record (which carries its own expiry) is gone.
    public static func read(_ conn: RedisConnection, keys: KeySpace, defaultExpiry: Double = 30,
                            now: Double = Timestamp.now()) throws(RedisError) -> [NodeStatus] {
        let first = try conn.pipeline([RedisCommand("ZRANGE", keys.nodes, 0, -1, "WITHSCORES"), RedisCommand("SMEMBERS", keys.processes)])
        var nodes: [String: NodeStatus] = [:]
        let registry = (first[0].array ?? []).compactMap(\.string)
        for i in stride(from: 0, to: registry.count - 1, by: 2) {
            nodes[registry[i]] = NodeStatus(node: registry[i], lastBeat: Double(registry[i + 1]))
        }
        let identities = (first[1].array ?? []).compactMap(\.string).sorted()
        let records = try conn.pipeline(identities.map { RedisCommand("HMGET", keys.process($0), "info", "busy", "rss", "quiet") })
        var expiries: [String: Double] = [:]
        for (identity, reply) in zip(identities, records) {
            let fields = reply.array ?? []
            guard let infoText = fields.first?.string, let info = try? JSONParser.parse(infoText) else { continue }
            // Sidekiq processes have no node_id: they show under their hostname.
            let node = info["node_id"]?.stringValue ?? info["hostname"]?.stringValue ?? identity
            var status = nodes[node] ?? NodeStatus(node: node)
            status.identity = identity
            status.pid = info["pid"]?.intValue
            if let concurrency = info["queue_concurrency"]?.objectValue {
                for member in concurrency { status.queues[member.key] = member.value.intValue ?? 0 }
            } else {
                for q in info["queues"]?.arrayValue ?? [] { if let name = q.stringValue { status.queues[name] = info["concurrency"]?.intValue ?? 0 } }
            }
            status.busy = fields.count > 1 ? Int(fields[1].string ?? "") ?? 0 : 0
            status.rssKB = fields.count > 2 ? Int(fields[2].string ?? "") ?? 0 : 0
            status.quiet = fields.count > 3 && fields[3].string == "true"
            expiries[node] = info["node_expiry"]?.doubleValue
            nodes[node] = status
        }
        let sorted = nodes.keys.sorted()
        let queueSets = try conn.pipeline(sorted.map { RedisCommand("SMEMBERS", keys.nodeQueues($0)) })
        var lengths: [RedisCommand] = []
        var owners: [String] = []
        for (node, reply) in zip(sorted, queueSets) {
            for queue in (reply.array ?? []).compactMap(\.string) {
                lengths.append(RedisCommand("LLEN", keys.inProgress(queue: queue, node: node)))
                owners.append(node)
            }
        }
        for (node, reply) in zip(owners, try conn.pipeline(lengths)) { nodes[node]?.inProgress += reply.int ?? 0 }
        return sorted.compactMap { name in
            guard var status = nodes[name] else { return nil }
            if let beat = status.lastBeat { status.expired = now - beat > (expiries[name] ?? defaultExpiry) }
            return status
        }
    }

    public var json: JSONValue {
        [
            "node": .string(node), "identity": identity.map(JSONValue.string) ?? .null, "pid": pid.map(JSONValue.int) ?? .null,
            "queues": .object(JSONObject(queues.sorted { $0.key < $1.key }.map { ($0.key, .int($0.value)) })),
            "busy": .int(busy), "rss_kb": .int(rssKB), "quiet": .bool(quiet), "last_beat": lastBeat.map(JSONValue.double) ?? .null,
            "in_progress": .int(inProgress), "expired": .bool(expired),
        ]
    }
}
