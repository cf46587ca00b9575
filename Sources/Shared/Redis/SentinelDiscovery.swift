import Logging

/// Which server is the master now, as the Sentinel client guidelines describe: ask the sentinels in turn
/// (`SENTINEL get-master-addr-by-name`), the one that answered last first; the first address given wins.
/// `RedisConnection` then connects there and checks ROLE itself, because a sentinel can still name a
/// master that a failover has just demoted.
///
/// Also paces the question a connection in use asks again ("did the master move?"): Sentinel leaves a
/// demoted master writable for about 10 s after a failover, so a connection cannot wait for READONLY or a
/// dropped socket to notice.
///
/// Owned by one `RedisConnection` and confined to its thread, like the connection; it keeps one plain
/// connection to the sentinel that answered last, so asking again costs one round trip.
final class SentinelDiscovery {
    let masterName: String
    /// The sentinel that answered last first.
    private(set) var sentinels: [RedisAddress]
    /// The sentinel that named the current master, for messages.
    private(set) var lastAnswer: RedisAddress?
    private let sentinelConfiguration: (RedisAddress) -> RedisConfiguration
    private let checkInterval: Duration
    private let clientName: String?
    private let logger: Logger
    private var connection: RedisConnection?
    private var nextCheck = ContinuousClock.now
    private var failedChecks = 0

    /// A sentinel that does not answer within this long is skipped for the next one (the guidelines suggest
    /// a short timeout: an unreachable sentinel must not hold up discovery).
    static let sentinelTimeout = 2.0
    /// After a check that reached no sentinel, wait this many intervals before the next: the connection
    /// keeps its master, and a dead sentinel must not cost a timeout on every command.
    static let failedCheckBackoff = 10.0

    init(masterName: String, sentinels: [RedisAddress], configuration: RedisConfiguration, name: String?, logger: Logger) {
        self.masterName = masterName
        self.sentinels = sentinels
        let timeout = min(configuration.connectTimeout, Self.sentinelTimeout)
        sentinelConfiguration = { address in
            RedisConfiguration(endpoint: .tcp(host: address.host, port: address.port),
                               username: configuration.sentinelUsername, password: configuration.sentinelPassword,
                               connectTimeout: timeout, commandTimeout: timeout, reconnectTimeout: 0)
        }
        checkInterval = .milliseconds(Int(max(0, configuration.sentinelCheckInterval) * 1000))
        clientName = name.map { "\($0)-sentinel" }
        self.logger = logger
    }

    /// The address the first sentinel that answers names for the master. Throws `.noMaster` (retried
    /// like a lost connection) when none could answer, `.unknownMaster` when those that answered do not
    /// know the name, and `.authentication` when a sentinel refused our credentials (both final).
    func master() throws(RedisError) -> RedisAddress {
        var problems: [String] = []
        var unknownTo: [RedisAddress] = []
        var refused: RedisError?
        for _ in sentinels.indices {
            let sentinel = sentinels[0]
            do throws(RedisError) {
                let conn: RedisConnection
                if let connection { conn = connection } else {
                    conn = try RedisConnection(configuration: sentinelConfiguration(sentinel), name: clientName, logger: logger)
                    connection = conn
                }
                let reply = try conn.command("SENTINEL", "get-master-addr-by-name", masterName)
                if let address = Self.address(in: reply) {
                    lastAnswer = sentinel
                    return address
                }
                if reply.isNull {
                    unknownTo.append(sentinel)
                    problems.append("\(sentinel) does not know it")
                } else {
                    problems.append("\(sentinel) answered \(reply.kind)")
                }
            } catch {
                if case .authentication(_, let reason) = error {
                    refused = .authentication(endpoint: "sentinel \(sentinel)", reason: reason
                        + "; the sentinels' own credentials go in sentinel_username and sentinel_password of the redis+sentinel:// URL")
                }
                problems.append("\(sentinel): \(Self.reason(error))")
            }
            // Ask the next one; this one goes to the back of the line.
            connection = nil
            sentinels.append(sentinels.removeFirst())
        }
        if let refused { throw refused }
        if !unknownTo.isEmpty {
            throw .unknownMaster(name: masterName, sentinels: unknownTo.map(\.description).joined(separator: ", "))
        }
        throw .noMaster(name: masterName, reason: problems.joined(separator: "; "))
    }

    /// A connection was just made to the master: ask again only after a full interval.
    func connected() {
        failedChecks = 0
        nextCheck = .now + checkInterval
    }

    /// True when a connection in use should ask again whether the master moved.
    var checkIsDue: Bool { ContinuousClock.now >= nextCheck }

    /// Asks again. Nil when no sentinel could answer: the caller keeps the master it has (a working master
    /// is not dropped because the sentinels are out of reach) and the next check waits longer.
    func recheck() -> RedisAddress? {
        do {
            let address = try master()
            connected()
            return address
        } catch {
            failedChecks += 1
            if failedChecks == 1 || failedChecks % 30 == 0 {
                logger.warning("cannot ask the sentinels whether the Redis master moved; staying on the current one",
                               metadata: ["master": "\(masterName)", "error": "\(error)"])
            }
            nextCheck = .now + checkInterval * Self.failedCheckBackoff
            return nil
        }
    }

    /// `[ip, port]`, as `SENTINEL get-master-addr-by-name` answers; nil for anything else.
    static func address(in reply: RedisReply) -> RedisAddress? {
        guard let parts = reply.array, parts.count == 2, let host = parts[0].string, !host.isEmpty,
              let port = parts[1].int, (1...65535).contains(port) else { return nil }
        return RedisAddress(host: host, port: port)
    }

    /// The short cause of a failure, for the list of what each sentinel said.
    private static func reason(_ error: RedisError) -> String {
        switch error {
        case .connect(_, let reason), .io(_, _, let reason): return reason
        case .server(_, let message): return message
        default: return "\(error)"
        }
    }
}
