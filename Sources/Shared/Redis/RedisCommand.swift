/// One Redis command as binary-safe arguments. Only the name is ever shown in errors or logs.
public struct RedisCommand: Sendable {
    public var arguments: [[UInt8]]

    public init(_ name: String, _ args: [any RedisArgument] = []) {
        arguments = [Array(name.utf8)] + args.map(\.redisBytes)
    }
    public init(_ name: String, _ args: any RedisArgument...) { self.init(name, args) }
    public init(arguments: [[UInt8]]) { self.arguments = arguments }

    public var name: String { arguments.first.map { String(decoding: $0, as: UTF8.self).uppercased() } ?? "?" }
}

/// A value that can be sent as a Redis argument.
public protocol RedisArgument: Sendable {
    var redisBytes: [UInt8] { get }
}
extension String: RedisArgument { public var redisBytes: [UInt8] { Array(utf8) } }
extension Substring: RedisArgument { public var redisBytes: [UInt8] { Array(utf8) } }
extension Array: RedisArgument where Element == UInt8 { public var redisBytes: [UInt8] { self } }
extension Int: RedisArgument { public var redisBytes: [UInt8] { Array(String(self).utf8) } }
extension Double: RedisArgument {
    /// Scores and timestamps as shortest round-trip decimal text, which Redis reads as a double exactly.
    public var redisBytes: [UInt8] { Array(String(self).utf8) }
}
