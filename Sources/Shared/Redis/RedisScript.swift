/// A Lua script run with EVALSHA; `RedisConnection` loads it on first use and again after NOSCRIPT
/// (a Redis restart or SCRIPT FLUSH empties the script cache).
public struct RedisScript: Sendable, Hashable {
    public let name: String
    public let source: String

    public init(name: String, source: String) {
        self.name = name
        self.source = source
    }
}

/// One call of a script: the script, its KEYS and its ARGV.
public struct ScriptCall: Sendable {
    public let script: RedisScript
    public let keys: [String]
    public let args: [[UInt8]]

    public init(_ script: RedisScript, keys: [String], args: [any RedisArgument]) {
        self.script = script
        self.keys = keys
        self.args = args.map(\.redisBytes)
    }
}
