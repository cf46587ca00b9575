/// Where and how to reach Redis. Parsed from a URL; `description` never shows the password.
public struct RedisConfiguration: Sendable, Equatable, CustomStringConvertible {
    public enum Endpoint: Sendable, Equatable {
        case tcp(host: String, port: Int)
        case unix(path: String)
    }

    public var endpoint: Endpoint
    public var username: String?
    public var password: String?
    public var database: Int
    /// Time allowed to establish the TCP or Unix connection.
    public var connectTimeout: Double
    /// Socket read/write timeout. It must exceed every blocking command's timeout (BLMOVE), because hiredis
    /// kills the context when it fires; `RedisConnection` adds a blocking command's own timeout on top.
    public var commandTimeout: Double
    /// How long a dead connection keeps trying to reconnect, with backoff, before a command fails.
    public var reconnectTimeout: Double

    public init(
        endpoint: Endpoint = .tcp(host: "127.0.0.1", port: 6379), username: String? = nil, password: String? = nil,
        database: Int = 0, connectTimeout: Double = 5, commandTimeout: Double = 10, reconnectTimeout: Double = 10
    ) {
        self.endpoint = endpoint
        self.username = username
        self.password = password
        self.database = database
        self.connectTimeout = connectTimeout
        self.commandTimeout = commandTimeout
        self.reconnectTimeout = reconnectTimeout
    }

    public static let defaultURL = "redis://127.0.0.1:6379/0"

    /// Parses `redis://[user:password@]host[:port][/db]`, `unix://[user:password@]/path/to.sock[?db=N]`
    /// (also `redis+unix://` and `redis-socket://`). `rediss://` is refused: hiredis 0.14 has no TLS.
    public init(url: String) throws(RedisError) {
        self.init()
        guard let schemeEnd = url.range(of: "://") else {
            throw .invalidURL(RedisConfiguration.redact(url), reason: "missing scheme; expected redis://host:port/db or unix:///path/to.sock")
        }
        let scheme = url[..<schemeEnd.lowerBound].lowercased()
        var rest = String(url[schemeEnd.upperBound...])
        switch scheme {
        case "redis", "unix", "redis+unix", "redis-socket": break
        case "rediss":
            throw .tlsUnsupported(RedisConfiguration.redact(url))
        default:
            throw .invalidURL(RedisConfiguration.redact(url), reason: "unsupported scheme '\(scheme)'; use redis:// or unix://")
        }
        // Query: only `db` is understood, so a typo is an error rather than silently ignored.
        var query: [(String, String)] = []
        if let q = rest.firstIndex(of: "?") {
            for pair in rest[rest.index(after: q)...].split(separator: "&") {
                // Empty pieces kept: "?=" must give an empty key, not an empty array that `kv[0]` traps on.
                let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
                query.append((kv[0], kv.count > 1 ? kv[1] : ""))
            }
            rest = String(rest[..<q])
            // An '@' in the query means the user info held a '?' that is not percent-encoded: the "query" is the
            // rest of a password, and the host, port or keys a message would name are pieces of it.
            if query.contains(where: { $0.0 != "password" && ($0.0 + $0.1).contains("@") }) {
                throw .invalidURL(RedisConfiguration.redact(url), reason: "a '?' in the user name or password must be percent-encoded as %3F")
            }
        }
        // Userinfo is everything before the last '@' (passwords may contain '@' when percent-encoded or not).
        if let at = rest.lastIndex(of: "@") {
            let userinfo = String(rest[..<at])
            rest = String(rest[rest.index(after: at)...])
            if let colon = userinfo.firstIndex(of: ":") {
                let user = RedisConfiguration.percentDecode(String(userinfo[..<colon]))
                username = user.isEmpty ? nil : user
                password = RedisConfiguration.percentDecode(String(userinfo[userinfo.index(after: colon)...]))
            } else if !userinfo.isEmpty {
                // `redis://secret@host` is the redis-rb convention for a password alone.
                password = RedisConfiguration.percentDecode(userinfo)
            }
        }
        let shown = RedisConfiguration.redact(url)
        if scheme == "redis" {
            var hostPort = rest
            var dbPart = ""
            if let slash = rest.firstIndex(of: "/") {
                hostPort = String(rest[..<slash])
                dbPart = String(rest[rest.index(after: slash)...])
            }
            var host = hostPort
            var port = 6379
            if hostPort.hasPrefix("[") {
                guard let close = hostPort.firstIndex(of: "]") else { throw .invalidURL(shown, reason: "unterminated IPv6 address") }
                host = String(hostPort[hostPort.index(after: hostPort.startIndex)..<close])
                let after = hostPort[hostPort.index(after: close)...]
                if after.hasPrefix(":") {
                    guard let p = Int(after.dropFirst()), (1...65535).contains(p) else { throw .invalidURL(shown, reason: "invalid port") }
                    port = p
                }
            } else if let colon = hostPort.lastIndex(of: ":") {
                host = String(hostPort[..<colon])
                guard let p = Int(hostPort[hostPort.index(after: colon)...]), (1...65535).contains(p) else {
                    throw .invalidURL(shown, reason: "invalid port '\(hostPort[hostPort.index(after: colon)...])'")
                }
                port = p
            }
            if host.isEmpty { host = "127.0.0.1" }
            endpoint = .tcp(host: host, port: port)
            if !dbPart.isEmpty {
                guard let db = Int(dbPart), db >= 0 else { throw .invalidURL(shown, reason: "database '\(dbPart)' is not a number") }
                database = db
            }
        } else {
            guard rest.hasPrefix("/") else { throw .invalidURL(shown, reason: "a Unix socket URL needs an absolute path, e.g. unix:///run/redis.sock") }
            endpoint = .unix(path: rest)
        }
        for (key, value) in query {
            switch key {
            case "db":
                guard let db = Int(value), db >= 0 else { throw .invalidURL(shown, reason: "db '\(value)' is not a number") }
                database = db
            case "password":
                password = RedisConfiguration.percentDecode(value)
            default:
                throw .invalidURL(shown, reason: "unknown parameter '\(key)'; only db and password are supported")
            }
        }
    }

    /// Where, for messages: host and port (or socket path) and db. Never credentials.
    public var endpointDescription: String {
        switch endpoint {
        case .tcp(let host, let port): return host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
        case .unix(let path): return path
        }
    }

    public var description: String {
        let user = username.map { "\($0)@" } ?? (password != nil ? "***@" : "")
        switch endpoint {
        case .tcp: return "redis://\(user)\(endpointDescription)/\(database)"
        case .unix(let path): return "unix://\(user)\(path)?db=\(database)"
        }
    }

    /// A URL with any password replaced by `***`, safe for logs and errors.
    public static func redact(_ url: String) -> String {
        guard let schemeEnd = url.range(of: "://") else { return url.contains("@") ? "***" : url }
        var rest = String(url[schemeEnd.upperBound...])
        var query = ""
        if let q = rest.firstIndex(of: "?") {
            query = String(rest[q...])
            rest = String(rest[..<q])
            query = query.replacing(/password=[^&]*/, with: "password=***")
            // An '@' still in the query: the '?' was inside the user info, which runs to that '@' (masked below).
            if query.contains("@") {
                rest += query
                query = ""
            }
        }
        if let at = rest.lastIndex(of: "@") {
            let userinfo = rest[..<at]
            let user = userinfo.firstIndex(of: ":").map { String(userinfo[..<$0]) } ?? ""
            rest = (user.isEmpty ? "" : user) + ":***" + rest[at...]
        }
        return String(url[..<schemeEnd.upperBound]) + rest + query
    }

    static func percentDecode(_ s: String) -> String {
        guard s.contains("%") else { return s }
        var out: [UInt8] = []
        var bytes = Array(s.utf8)[...]
        while let b = bytes.popFirst() {
            if b == UInt8(ascii: "%"), bytes.count >= 2,
               let v = UInt8(String(decoding: bytes.prefix(2), as: UTF8.self), radix: 16) {
                out.append(v)
                bytes = bytes.dropFirst(2)
            } else {
                out.append(b)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
