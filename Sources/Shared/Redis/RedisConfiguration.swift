/// Where and how to reach Redis. Parsed from a URL; `description` never shows the password.
public struct RedisConfiguration: Sendable, Equatable, CustomStringConvertible {
    public enum Endpoint: Sendable, Equatable {
        case tcp(host: String, port: Int)
        case unix(path: String)
        /// The master that these sentinels name `masterName`, asked again at every (re)connect: see
        /// `SentinelDiscovery`. Sentinels are listed in the order the URL gives them.
        case sentinel(masterName: String, sentinels: [RedisAddress])
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
    /// Sentinel only: AUTH for the sentinels themselves (sentinel.conf `requirepass`, or an ACL user there),
    /// apart from `username`/`password`, which are the master's.
    public var sentinelUsername: String?
    public var sentinelPassword: String?
    /// Sentinel only: a connection in use asks a sentinel at most this often (seconds) whether the master
    /// moved. After a failover Sentinel leaves the old master writable for about 10 s before demoting it,
    /// and everything written there in that time is lost: waiting for READONLY or a dropped connection
    /// alone would keep the node on it that long.
    public var sentinelCheckInterval: Double = 1

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
    /// (also `redis+unix://` and `redis-socket://`) and
    /// `redis+sentinel://[user:password@]host1[:26379],host2[:26379]/MASTER_NAME[/db][?sentinel_password=…]`.
    /// `rediss://` is refused: hiredis 0.14 has no TLS.
    public init(url: String) throws(RedisError) {
        self.init()
        guard let schemeEnd = url.firstRange(of: "://") else {
            throw .invalidURL(RedisConfiguration.redact(url), reason: "missing scheme; expected redis://host:port/db, unix:///path/to.sock or redis+sentinel://host:26379,host2:26379/MASTER_NAME")
        }
        let scheme = url[..<schemeEnd.lowerBound].lowercased()
        var rest = String(url[schemeEnd.upperBound...])
        switch scheme {
        case "redis", "unix", "redis+unix", "redis-socket", Self.sentinelScheme: break
        case "rediss":
            throw .tlsUnsupported(RedisConfiguration.redact(url))
        default:
            throw .invalidURL(RedisConfiguration.redact(url), reason: "unsupported scheme '\(scheme)'; use redis://, unix:// or redis+sentinel://")
        }
        // Query: only known parameters are understood, so a typo is an error rather than silently ignored.
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
        if scheme == Self.sentinelScheme {
            (endpoint, database) = try Self.sentinelLocation(rest, shown: shown)
        } else if scheme == "redis" {
            var hostPort = rest
            var dbPart = ""
            if let slash = rest.firstIndex(of: "/") {
                hostPort = String(rest[..<slash])
                dbPart = String(rest[rest.index(after: slash)...])
            }
            let address = try RedisAddress(parsing: hostPort, defaultPort: 6379, shown: shown)
            endpoint = .tcp(host: address.host, port: address.port)
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
            case "sentinel_password" where scheme == Self.sentinelScheme:
                sentinelPassword = RedisConfiguration.percentDecode(value)
            case "sentinel_username" where scheme == Self.sentinelScheme:
                let user = RedisConfiguration.percentDecode(value)
                sentinelUsername = user.isEmpty ? nil : user
            default:
                let known = scheme == Self.sentinelScheme ? "db, password, sentinel_username and sentinel_password" : "db and password"
                throw .invalidURL(shown, reason: "unknown parameter '\(key)'; only \(known) are supported")
            }
        }
    }

    /// Where, for messages: host and port (or socket path, or the master's name and its sentinels). Never credentials.
    public var endpointDescription: String {
        switch endpoint {
        case .tcp(let host, let port): return RedisAddress(host: host, port: port).description
        case .unix(let path): return path
        case .sentinel(let name, let sentinels): return "master '\(name)' of sentinels \(sentinels.map(\.description).joined(separator: ","))"
        }
    }

    public var description: String {
        let user = username.map { "\($0)@" } ?? (password != nil ? "***@" : "")
        switch endpoint {
        case .tcp: return "redis://\(user)\(endpointDescription)/\(database)"
        case .unix(let path): return "unix://\(user)\(path)?db=\(database)"
        case .sentinel(let name, let sentinels):
            let query = [sentinelUsername.map { "sentinel_username=\($0)" }, sentinelPassword.map { _ in "sentinel_password=***" }]
                .compactMap { $0 }.joined(separator: "&")
            return "\(Self.sentinelScheme)://\(user)\(sentinels.map(\.description).joined(separator: ","))/\(name)/\(database)"
                + (query.isEmpty ? "" : "?\(query)")
        }
    }

    /// A URL with any password replaced by `***`, safe for logs and errors.
    public static func redact(_ url: String) -> String {
        guard let schemeEnd = url.firstRange(of: "://") else { return url.contains("@") ? "***" : url }
        var rest = String(url[schemeEnd.upperBound...])
        // The user info runs to the last '@': a password may hold '/', '?' or '@' unencoded, so everything
        // before it is masked (too much, if an '@' sits in the query, never too little).
        var userinfo = ""
        if let at = rest.lastIndex(of: "@") {
            let user = rest[..<at].firstIndex(of: ":").map { String(rest[..<$0]) } ?? ""
            userinfo = user + ":***"
            rest = String(rest[at...])
        }
        var query = ""
        if let q = rest.firstIndex(of: "?") {
            // Every value but db's: a misspelt parameter (`sentinel_pasword=…`) may hold a password too.
            query = String(rest[q...]).replacing(/([?&])(?!db=)([^=&]*)=[^&]*/) { "\($0.1)\($0.2)=***" }
            rest = String(rest[..<q])
        }
        return String(url[..<schemeEnd.upperBound]) + userinfo + rest + query
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
