/// Finds a job's `class` in its payload bytes without parsing the job: the queue loop labels every job's
/// metrics with its class, tens of thousands of times a second, where a full parse costs 7–27 µs. It walks
/// the top-level object's members, skipping the values of the others (strings, nested objects and arrays,
/// scalars) without decoding them, and stops at `class`, which Sidekiq's clients and ours write first.
/// Never traps on input: anything unexpected is nil, and the caller parses the job instead.
enum JobClassScanner {
    /// Where the `class` string's content is, or nil when the payload is not a JSON object with a plain
    /// `class` string member (absent, not a string, written with escapes, or a malformed payload).
    static func classRange(in payload: [UInt8]) -> Range<Int>? {
        payload.withUnsafeBufferPointer { scan($0) }
    }

    private static let quote = UInt8(ascii: "\""), backslash = UInt8(ascii: "\\")
    private static let classKey: [UInt8] = Array("class".utf8)

    private static func scan(_ b: UnsafeBufferPointer<UInt8>) -> Range<Int>? {
        var i = skipSpace(b, 0)
        guard i < b.count, b[i] == UInt8(ascii: "{") else { return nil }
        i += 1
        while true {
            i = skipSpace(b, i)
            guard i < b.count, b[i] == quote, let key = string(b, i) else { return nil }
            i = skipSpace(b, key.end)
            guard i < b.count, b[i] == UInt8(ascii: ":") else { return nil }
            i = skipSpace(b, i + 1)
            if !key.escaped, equals(b, key.content, classKey) {
                guard i < b.count, b[i] == quote, let value = string(b, i), !value.escaped else { return nil }
                return value.content
            }
            guard let end = skipValue(b, i) else { return nil }
            i = skipSpace(b, end)
            guard i < b.count, b[i] == UInt8(ascii: ",") else { return nil }  // `}`: no class member
            i += 1
        }
    }

    /// A string starting at the quote at `i`: its content's range, whether it has escapes, and the index after it.
    private static func string(_ b: UnsafeBufferPointer<UInt8>, _ i: Int) -> (content: Range<Int>, escaped: Bool, end: Int)? {
        var j = i + 1
        var escaped = false
        while j < b.count {
            switch b[j] {
            case quote: return (i + 1..<j, escaped, j + 1)
            case backslash: escaped = true; j += 2
            default: j += 1
            }
        }
        return nil
    }

    /// The index after the value starting at `i`.
    private static func skipValue(_ b: UnsafeBufferPointer<UInt8>, _ i: Int) -> Int? {
        guard i < b.count else { return nil }
        switch b[i] {
        case quote:
            return string(b, i)?.end
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            var depth = 0
            var j = i
            while j < b.count {
                switch b[j] {
                case quote:
                    guard let end = string(b, j)?.end else { return nil }
                    j = end
                    continue
                case UInt8(ascii: "{"), UInt8(ascii: "["): depth += 1
                case UInt8(ascii: "}"), UInt8(ascii: "]"):
                    depth -= 1
                    if depth == 0 { return j + 1 }
                default: break
                }
                j += 1
            }
            return nil
        default:  // a number, true, false or null
            var j = i
            while j < b.count, b[j] != UInt8(ascii: ","), b[j] != UInt8(ascii: "}"), !isSpace(b[j]) { j += 1 }
            return j > i ? j : nil
        }
    }

    private static func skipSpace(_ b: UnsafeBufferPointer<UInt8>, _ i: Int) -> Int {
        var j = i
        while j < b.count, isSpace(b[j]) { j += 1 }
        return j
    }

    @inline(__always)
    private static func isSpace(_ c: UInt8) -> Bool { c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09 }

    private static func equals(_ b: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, _ word: [UInt8]) -> Bool {
        guard range.count == word.count else { return false }
        for (k, c) in word.enumerated() where b[range.lowerBound + k] != c { return false }
        return true
    }
}
