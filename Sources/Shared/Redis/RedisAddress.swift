/// A TCP address of a Redis server or a sentinel: `host:port`, or `[v6]:port` when shown.
public struct RedisAddress: Sendable, Hashable, CustomStringConvertible {
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }

    /// Parses `host`, `host:port`, `[v6]` or `[v6]:port` from a URL; `shown` is the redacted URL for errors.
    /// An empty host is 127.0.0.1, as redis-cli takes it.
    init(parsing text: String, defaultPort: Int, shown: String) throws(RedisError) {
        var host = text
        var port = defaultPort
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { throw .invalidURL(shown, reason: "unterminated IPv6 address '\(text)'") }
            host = String(text[text.index(after: text.startIndex)..<close])
            let after = text[text.index(after: close)...]
            if after.hasPrefix(":") {
                guard let p = Int(after.dropFirst()), (1...65535).contains(p) else {
                    throw .invalidURL(shown, reason: "invalid port '\(after.dropFirst())' in '\(text)'")
                }
                port = p
            } else if !after.isEmpty {
                throw .invalidURL(shown, reason: "unexpected '\(after)' after the IPv6 address in '\(text)'")
            }
        } else if let colon = text.lastIndex(of: ":") {
            host = String(text[..<colon])
            let portText = text[text.index(after: colon)...]
            guard let p = Int(portText), (1...65535).contains(p) else {
                throw .invalidURL(shown, reason: "invalid port '\(portText)'" + (host.isEmpty ? "" : " in '\(text)'"))
            }
            port = p
        }
        self.host = host.isEmpty ? "127.0.0.1" : host
        self.port = port
    }
}
