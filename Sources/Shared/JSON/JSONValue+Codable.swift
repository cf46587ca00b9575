import FoundationEssentials

/// Bridges `JSONValue` to Codable, so typed job arguments can be encoded and decoded with Foundation.
extension JSONValue: Codable {
    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null }
        else if let b = try? c.decode(Bool.self) { self = .bool(b) }
        else if let i = try? c.decode(Int.self) { self = .int(i) }
        else if let d = try? c.decode(Double.self) { self = .double(d) }
        else if let s = try? c.decode(String.self) { self = .string(s) }
        else if let a = try? c.decode([JSONValue].self) { self = .array(a) }
        else if let o = try? c.decode([String: JSONValue].self) {
            self = .object(JSONObject(o.sorted(by: { $0.key < $1.key }).map { ($0.key, $0.value) }))
        } else {
            throw DecodingError.dataCorruptedError(in: c, debugDescription: "not a JSON value")
        }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .null: try c.encodeNil()
        case .bool(let b): try c.encode(b)
        case .number(let n):
            if n.isInteger, let i = Int(n.literal) { try c.encode(i) } else { try c.encode(n.doubleValue ?? 0) }
        case .string(let s): try c.encode(s)
        case .array(let a): try c.encode(a)
        case .object(let o):
            var d: [String: JSONValue] = [:]
            for m in o { d[m.key] = m.value }
            try c.encode(d)
        }
    }
}

public enum JSONCoding {
    /// Encodes any Encodable to a `JSONValue` (through Foundation's encoder, then our parser).
    public static func value<T: Encodable>(of value: T) throws -> JSONValue {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let data = try encoder.encode(value)
        return try JSONParser.parse(Array(data))
    }

    /// Decodes a Decodable from a `JSONValue`.
    public static func decode<T: Decodable>(_ type: T.Type, from value: JSONValue) throws -> T {
        try JSONDecoder().decode(T.self, from: Data(JSONWriter.encode(value)))
    }
}
