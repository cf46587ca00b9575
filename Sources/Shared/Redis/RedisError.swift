/// Everything that can go wrong talking to Redis. Messages say what, where and what to do,
/// and never contain a password or a command's arguments (which may be job payloads or secrets).
public enum RedisError: Error, Sendable, Equatable, CustomStringConvertible {
    case invalidURL(String, reason: String)
    case tlsUnsupported(String)
    /// Could not connect (refused, unreachable, timeout) within the reconnect window.
    case connect(endpoint: String, reason: String)
    /// AUTH was refused: wrong password, unknown ACL user, or a password given to a server that has none.
    case authentication(endpoint: String, reason: String)
    /// The connection broke during a command. The command may or may not have run.
    case io(endpoint: String, command: String, reason: String)
    /// Redis answered with an error reply (`-ERR …`). The connection is still usable.
    case server(command: String, message: String)
    /// The reply did not have the shape the caller expected.
    case unexpectedReply(command: String, expected: String, got: String)
    /// Sentinel: no sentinel named a master this connection could use (none reachable, or the one named is
    /// down or says it is a replica, as during a failover). Retried like a lost connection.
    case noMaster(name: String, reason: String)
    /// Sentinel: the sentinels that answered monitor no master of this name. A configuration error.
    case unknownMaster(name: String, sentinels: String)
    /// Sentinel: the server in use stopped being a writable master (it answered READONLY or NOREPLICAS, or the
    /// sentinels now name another, and then the command was not sent). Writes the command held were refused
    /// (in a pipeline, commands before the refused one may have run); the next command asks the sentinels again.
    case notMaster(endpoint: String, command: String, reason: String)

    public var description: String {
        switch self {
        case .invalidURL(let url, let reason):
            return "invalid Redis URL '\(url)': \(reason)"
        case .tlsUnsupported(let url):
            return "cannot use '\(url)': TLS (rediss://) is not supported by hiredis 0.14; use redis:// on a private network or a TLS tunnel such as stunnel"
        case .connect(let endpoint, let reason):
            return "cannot connect to Redis at \(endpoint): \(reason); check that redis-server is running there and the URL (--redis-url or VERK_REDIS_URL) is right"
        case .authentication(let endpoint, let reason):
            return "Redis at \(endpoint) refused authentication: \(reason); check the username and password in the Redis URL"
        case .io(let endpoint, let command, let reason):
            return "connection to Redis at \(endpoint) failed during \(command): \(reason)"
        case .server(let command, let message):
            return "Redis answered \(command) with an error: \(message)"
        case .unexpectedReply(let command, let expected, let got):
            return "unexpected reply to \(command): expected \(expected), got \(got)"
        case .noMaster(let name, let reason):
            return "no usable Redis master '\(name)' from the sentinels: \(reason); retrying while a failover completes (check that the sentinels run and reach the master)"
        case .unknownMaster(let name, let sentinels):
            return "the sentinels at \(sentinels) monitor no master named '\(name)'; use the name given to `sentinel monitor` in sentinel.conf (redis+sentinel://…/NAME)"
        case .notMaster(let endpoint, let command, let reason):
            return "Redis at \(endpoint) is no longer the master to write to (\(reason)); \(command) did not complete there; the next command asks the sentinels for the master again"
        }
    }

    /// True when the connection itself failed (not a `-ERR` reply): the caller may retry after a reconnect.
    public var isConnectionFailure: Bool {
        switch self {
        case .connect, .io, .noMaster, .notMaster: return true
        default: return false
        }
    }
}
