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
        }
    }

    /// True when the connection itself failed (not a `-ERR` reply): the caller may retry after a reconnect.
    public var isConnectionFailure: Bool {
        switch self {
        case .connect, .io: return true
        default: return false
        }
    }
}
