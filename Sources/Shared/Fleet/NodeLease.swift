import FoundationEssentials
import Glibc

/// One live node per id. A node holds `verk:node:ID:lease` (its token, host, pid and start time) with an
/// expiry its heartbeat renews; a second node started with the same id finds the lease held and neither
/// recovers nor fetches anything until it expires. A killed node's lease lapses within one TTL, so a pod
/// restarted under the same name serves again after at most that long; a clean shutdown releases it at once.
package struct NodeLease: Sendable {
    /// Who holds a lease, as stored in it.
    package struct Holder: Sendable, Equatable, CustomStringConvertible {
        package let token: String
        package let host: String
        package let pid: Int
        package let since: Double

        package var description: String {
            "host \(host), pid \(pid), since \(Date(timeIntervalSince1970: since).formatted(.iso8601))"
        }
    }

    package let keys: KeySpace
    package let node: String
    package let ttl: Double
    package let holder: Holder

    package init(keys: KeySpace, node: String, ttl: Double, host: String = ProcessInfo.processInfo.hostName,
                 pid: Int = Int(getpid()), now: Double = Timestamp.now()) {
        self.keys = keys
        self.node = node
        self.ttl = ttl
        holder = Holder(token: JobID.generate(), host: host, pid: pid, since: now)
    }

    private var key: String { keys.nodeLease(node) }
    private var ttlMillis: Int { Int((ttl * 1000).rounded()) }

    /// Takes the lease if nobody holds it. Nil when taken; otherwise who holds it.
    package func tryAcquire(_ redis: RedisConnection) throws(RedisError) -> Holder? {
        for _ in 0..<3 {
            let value = Self.encode(holder)
            if try redis.command("SET", key, value, "NX", "PX", ttlMillis).string == "OK" { return nil }
            if let current = try Self.holder(redis, keys: keys, node: node) { return current }
            // It expired between the two commands: try again.
        }
        return try Self.holder(redis, keys: keys, node: node)
    }

    package enum Renewal: Sendable, Equatable {
        case renewed
        /// It had lapsed (a late heartbeat) and nobody had taken it or the node's jobs: held again.
        case retaken
        /// Another holder has it, or the node was taken over: this node must stop.
        case lost
    }

    /// Extends the lease (taking it again if it merely lapsed and nothing was taken over).
    package func renew(_ redis: RedisConnection) throws(RedisError) -> Renewal {
        switch try redis.eval(ScriptCall(Scripts.renewLease, keys: [key, keys.nodes],
                                         args: [holder.token, ttlMillis, Self.encode(holder), node])).int {
        case 1: return .renewed
        case 2: return .retaken
        default: return .lost
        }
    }

    /// Gives the id up (a clean shutdown), if this node still holds it.
    package func release(_ redis: RedisConnection) throws(RedisError) {
        try redis.eval(ScriptCall(Scripts.releaseLease, keys: [key], args: [holder.token]))
    }

    /// Who holds `node`'s lease now, if anyone.
    package static func holder(_ redis: RedisConnection, keys: KeySpace, node: String) throws(RedisError) -> Holder? {
        guard let value = try redis.command("GET", keys.nodeLease(node)).string else { return nil }
        return decode(value)
    }

    static func encode(_ holder: Holder) -> String {
        holder.token + " " + JSONWriter.string(["host": .string(holder.host), "pid": .int(holder.pid), "since": .double(holder.since)])
    }

    static func decode(_ value: String) -> Holder? {
        guard let space = value.firstIndex(of: " ") else { return nil }
        let info = try? JSONParser.parse(String(value[value.index(after: space)...]))
        return Holder(token: String(value[..<space]), host: info?["host"]?.stringValue ?? "?",
                      pid: info?["pid"]?.intValue ?? 0, since: info?["since"]?.doubleValue ?? 0)
    }
}
