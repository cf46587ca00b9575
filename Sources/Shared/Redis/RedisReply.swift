/// A Redis (RESP2) reply, copied out of hiredis's memory at once.
public enum RedisReply: Sendable, Equatable {
    case status(String)
    case error(String)
    case integer(Int)
    case bulk([UInt8])
    case null
    case array([RedisReply])

    public var int: Int? {
        switch self {
        case .integer(let i): return i
        case .bulk(let b): return Int(String(decoding: b, as: UTF8.self))
        default: return nil
        }
    }
    public var bytes: [UInt8]? {
        switch self {
        case .bulk(let b): return b
        case .status(let s): return Array(s.utf8)
        default: return nil
        }
    }
    public var string: String? { bytes.map { String(decoding: $0, as: UTF8.self) } }
    public var double: Double? { string.flatMap(Double.init) }
    public var array: [RedisReply]? { if case .array(let a) = self { return a }; return nil }
    public var isNull: Bool { if case .null = self { return true }; return false }
    public var errorMessage: String? { if case .error(let e) = self { return e }; return nil }

    /// A short description for error messages: the kind, never the content of a bulk string.
    public var kind: String {
        switch self {
        case .status(let s): return "status \(s)"
        case .error(let e): return "error \(e)"
        case .integer(let i): return "integer \(i)"
        case .bulk(let b): return "bulk string (\(b.count) bytes)"
        case .null: return "nil"
        case .array(let a): return "array of \(a.count)"
        }
    }
}
