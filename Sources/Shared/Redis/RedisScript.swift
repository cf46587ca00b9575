/// A Lua script run with EVALSHA; `RedisConnection` loads it on first use and again after NOSCRIPT
/// (a Redis restart or SCRIPT FLUSH empties the script cache).
package struct RedisScript: Sendable, Hashable {
    package let name: String
    package let source: String

    package init(name: String, source: String) {
        self.name = name
        self.source = source
    }
}

/// One call of a script: the script, its KEYS and its ARGV.
package struct ScriptCall: Sendable {
    package let script: RedisScript
    package let keys: [String]
    package let args: [[UInt8]]

    package init(_ script: RedisScript, keys: [String], args: [any RedisArgument]) {
        self.script = script
        self.keys = keys
        self.args = args.map(\.redisBytes)
    }

    /// A call whose arguments are raw byte strings (payloads), taken as they are.
    package init(_ script: RedisScript, keys: [String], rawArgs: [[UInt8]]) {
        self.script = script
        self.keys = keys
        self.args = rawArgs
    }
}
