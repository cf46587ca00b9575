/// A JSON value that keeps what Sidekiq payloads need to survive a round trip unchanged:
/// object key order, and numbers as their literal text (17-digit float timestamps, 64-bit ids).
public enum JSONValue: Sendable, Hashable {
    case null
    case bool(Bool)
    case number(JSONNumber)
    case string(String)
    case array([JSONValue])
    case object(JSONObject)

    public static func int(_ value: Int) -> JSONValue { .number(JSONNumber(value)) }
    public static func double(_ value: Double) -> JSONValue {
        value.isFinite ? .number(JSONNumber(value)) : .null
    }

    public var stringValue: String? { if case .string(let s) = self { return s }; return nil }
    public var boolValue: Bool? { if case .bool(let b) = self { return b }; return nil }
    public var numberValue: JSONNumber? { if case .number(let n) = self { return n }; return nil }
    public var arrayValue: [JSONValue]? { if case .array(let a) = self { return a }; return nil }
    public var objectValue: JSONObject? { if case .object(let o) = self { return o }; return nil }
    public var intValue: Int? { numberValue?.intValue }
    public var doubleValue: Double? { numberValue?.doubleValue }
    public var isNull: Bool { if case .null = self { return true }; return false }

    public subscript(key: String) -> JSONValue? { objectValue?[key] }

    /// What kind of value this is, for messages: "null", "a boolean", "a number", "a string", "an array", "an object".
    package var kindDescription: String {
        switch self {
        case .null: return "null"
        case .bool: return "a boolean"
        case .number: return "a number"
        case .string: return "a string"
        case .array: return "an array"
        case .object: return "an object"
        }
    }
}

/// A JSON number held as its literal text, so re-encoding writes exactly what was read.
public struct JSONNumber: Sendable, Hashable, CustomStringConvertible {
    public let literal: String

    /// `literal` must be a valid JSON number; the parser guarantees it.
    init(literal: String) { self.literal = literal }
    public init(_ value: Int) { literal = String(value) }
    /// Always written with a `.` or an exponent: Sidekiq 8 reads a JSON integer timestamp as milliseconds.
    public init(_ value: Double) {
        var text = value.isFinite ? value.description : "0.0"
        if !Self.hasFractionOrExponent(text) { text += ".0" }
        literal = text
    }

    /// True when the literal has no fraction or exponent (a JSON "integer").
    public var isInteger: Bool { !Self.hasFractionOrExponent(literal) }

    /// Over the UTF-8 bytes: iterating Characters (grapheme breaking) cost more than the number itself.
    private static func hasFractionOrExponent(_ text: String) -> Bool {
        text.utf8.contains { $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "e") || $0 == UInt8(ascii: "E") }
    }
    public var intValue: Int? { isInteger ? Int(literal) : Double(literal).flatMap { $0 == $0.rounded() && abs($0) < 9e15 ? Int($0) : nil } }
    public var doubleValue: Double? { Double(literal) }
    public var description: String { literal }

    public static func == (lhs: JSONNumber, rhs: JSONNumber) -> Bool {
        if lhs.literal == rhs.literal { return true }
        guard lhs.isInteger == rhs.isInteger, let a = lhs.doubleValue, let b = rhs.doubleValue else { return false }
        return a == b
    }
    public func hash(into hasher: inout Hasher) {
        hasher.combine(isInteger)
        hasher.combine(doubleValue)
    }
}

/// A JSON object that keeps its keys in order. Jobs have a dozen keys, so a linear scan beats hashing.
public struct JSONObject: Sendable, Hashable, Sequence, ExpressibleByDictionaryLiteral {
    public struct Member: Sendable, Hashable {
        public var key: String
        public var value: JSONValue
    }
    public private(set) var members: [Member]

    public init() { members = [] }
    public init(_ members: [(String, JSONValue)]) {
        self.members = []
        for (k, v) in members { self[k] = v }
    }
    public init(dictionaryLiteral elements: (String, JSONValue)...) { self.init(elements) }
    /// Members whose keys are known to be distinct (the parser's), kept without a scan per key.
    init(uniqueMembers: [Member]) { members = uniqueMembers }

    public var count: Int { members.count }
    public var keys: [String] { members.map(\.key) }

    public subscript(key: String) -> JSONValue? {
        get { members.first(where: { $0.key == key })?.value }
        set {
            if let i = members.firstIndex(where: { $0.key == key }) {
                if let newValue { members[i].value = newValue } else { members.remove(at: i) }
            } else if let newValue {
                members.append(Member(key: key, value: newValue))
            }
        }
    }

    public func makeIterator() -> IndexingIterator<[Member]> { members.makeIterator() }

    /// Objects are equal when they hold the same keys with equal values, in any order:
    /// key order differs between encoders and carries no meaning in a job.
    public static func == (lhs: JSONObject, rhs: JSONObject) -> Bool {
        guard lhs.members.count == rhs.members.count else { return false }
        return lhs.members.allSatisfy { rhs[$0.key] == $0.value }
    }
    public func hash(into hasher: inout Hasher) {
        hasher.combine(members.count)
        for key in members.map(\.key).sorted() { hasher.combine(key) }
    }
}

extension JSONValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral,
    ExpressibleByBooleanLiteral, ExpressibleByArrayLiteral, ExpressibleByNilLiteral, ExpressibleByDictionaryLiteral
{
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int) { self = .int(value) }
    public init(floatLiteral value: Double) { self = .double(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    public init(nilLiteral: ()) { self = .null }
    public init(dictionaryLiteral elements: (String, JSONValue)...) { self = .object(JSONObject(elements)) }
}
