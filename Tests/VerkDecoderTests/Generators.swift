import PropertyBased
@testable import VerkShared

/// Random wire values for the property tests: JSON values (numbers as valid literals, strings with every
/// kind of character the writer must escape or keep), frames of every kind, and damaged byte strings.
enum Generators {
    typealias RNG = any SeededRandomNumberGenerator

    static let json = Generator<JSONValue, Shrink.None<JSONValue>>(run: { rng in value(depth: 0, &rng) })

    /// A value, and its JSON with random whitespace between tokens.
    static let spacedJSON = Generator<(JSONValue, [UInt8]), Shrink.None<(JSONValue, [UInt8])>>(run: { rng in
        let v = value(depth: 0, &rng)
        return (v, spaced(v, &rng))
    })

    static let frames = Generator<[Frame], Shrink.None<[Frame]>>(run: { rng in
        (0..<Int.random(in: 1...6, using: &rng)).map { _ in frame(&rng) }
    })

    /// Valid frames, then damaged: a byte changed, the stream cut short, or a length header replaced.
    static let damagedFrameBytes = Generator<[UInt8], Shrink.None<[UInt8]>>(run: { rng in
        var bytes: [UInt8] = []
        for _ in 0..<Int.random(in: 1...4, using: &rng) { FrameEncoder.append(frame(&rng), to: &bytes) }
        return damage(bytes, &rng)
    })

    /// Written JSON, then damaged the same ways, or plain random bytes.
    static let damagedJSONBytes = Generator<[UInt8], Shrink.None<[UInt8]>>(run: { rng in
        if Int.random(in: 0..<5, using: &rng) == 0 { return (0..<Int.random(in: 0...40, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) } }
        return damage(JSONWriter.encode(value(depth: 0, &rng)), &rng)
    })

    // MARK: JSON

    static func value(depth: Int, _ rng: inout RNG) -> JSONValue {
        let kinds = depth >= 4 ? 4 : 6
        switch Int.random(in: 0..<kinds, using: &rng) {
        case 0: return .null
        case 1: return .bool(Bool.random(using: &rng))
        case 2: return .number(JSONNumber(literal: numberLiteral(&rng)))
        case 3: return .string(string(&rng))
        case 4: return .array((0..<Int.random(in: 0...5, using: &rng)).map { _ in value(depth: depth + 1, &rng) })
        default:
            // Sometimes wide at the top: the parser indexes the keys of objects with more than 16.
            let count = depth == 0 && Int.random(in: 0..<4, using: &rng) == 0 ? Int.random(in: 17...24, using: &rng) : Int.random(in: 0...5, using: &rng)
            return .object(JSONObject((0..<count).map { _ in (string(&rng), value(depth: depth + 1, &rng)) }))
        }
    }

    /// A valid RFC 8259 number: `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`, up to 20 digits a part,
    /// so 64-bit overflows, 17-digit timestamps and huge exponents all appear.
    static func numberLiteral(_ rng: inout RNG) -> String {
        func digits(_ count: ClosedRange<Int>, _ rng: inout RNG) -> String {
            String((0..<Int.random(in: count, using: &rng)).map { _ in Character(String(Int.random(in: 0...9, using: &rng))) })
        }
        var text = Bool.random(using: &rng) ? "-" : ""
        text += Int.random(in: 0..<4, using: &rng) == 0 ? "0" : String(Int.random(in: 1...9, using: &rng)) + digits(0...19, &rng)
        if Bool.random(using: &rng) { text += "." + digits(1...20, &rng) }
        if Int.random(in: 0..<3, using: &rng) == 0 {
            text += ["e", "E", "e+", "e-", "E-"][Int.random(in: 0..<5, using: &rng)] + digits(1...4, &rng)
        }
        return text
    }

    /// Characters the writer escapes (quote, backslash, controls), keeps raw (`/`, DEL, U+2028) or must carry
    /// as multi-byte UTF-8 (accents, CJK, astral emoji).
    static func string(_ rng: inout RNG) -> String {
        let special: [Unicode.Scalar] = ["\"", "\\", "/", "\u{7F}", "\u{2028}", "\u{FEFF}", "\u{FFFD}", "é", "中", "😀", "\u{10FFFF}"]
        var scalars = String.UnicodeScalarView()
        for _ in 0..<Int.random(in: 0...12, using: &rng) {
            switch Int.random(in: 0..<4, using: &rng) {
            case 0: scalars.append(Unicode.Scalar(UInt8.random(in: 0...0x1F, using: &rng)))
            case 1: scalars.append(special[Int.random(in: 0..<special.count, using: &rng)])
            case 2: scalars.append(Unicode.Scalar(UInt8.random(in: 0x20...0x7E, using: &rng)))
            default:
                // Any scalar but a surrogate, which no Swift string holds.
                let v = UInt32.random(in: 0x80...0x10FFFF, using: &rng)
                scalars.append(Unicode.Scalar(v) ?? "\u{E000}")
            }
        }
        return String(scalars)
    }

    /// The same JSON with random whitespace (space, tab, CR, LF) between tokens, which the parser must skip.
    static func spaced(_ value: JSONValue, _ rng: inout RNG) -> [UInt8] {
        var out: [UInt8] = []
        func gap(_ rng: inout RNG) {
            for _ in 0..<Int.random(in: 0...2, using: &rng) { out.append([0x20, 0x09, 0x0A, 0x0D][Int.random(in: 0..<4, using: &rng)]) }
        }
        func write(_ value: JSONValue, _ rng: inout RNG) {
            gap(&rng)
            switch value {
            case .array(let elements):
                out.append(UInt8(ascii: "["))
                for (i, e) in elements.enumerated() {
                    if i > 0 { gap(&rng); out.append(UInt8(ascii: ",")) }
                    write(e, &rng)
                }
                gap(&rng)
                out.append(UInt8(ascii: "]"))
            case .object(let object):
                out.append(UInt8(ascii: "{"))
                for (i, m) in object.members.enumerated() {
                    if i > 0 { gap(&rng); out.append(UInt8(ascii: ",")) }
                    gap(&rng)
                    out.append(contentsOf: JSONWriter.encode(.string(m.key)))
                    gap(&rng)
                    out.append(UInt8(ascii: ":"))
                    write(m.value, &rng)
                }
                gap(&rng)
                out.append(UInt8(ascii: "}"))
            default:
                out.append(contentsOf: JSONWriter.encode(value))
            }
            gap(&rng)
        }
        write(value, &rng)
        return out
    }

    // MARK: Frames

    static func frame(_ rng: inout RNG) -> Frame {
        func u64(_ rng: inout RNG) -> UInt64 { Bool.random(using: &rng) ? UInt64.random(in: 0...1000, using: &rng) : UInt64.random(in: .min ... .max, using: &rng) }
        func bytes(_ rng: inout RNG) -> [UInt8] { (0..<Int.random(in: 0...64, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) } }
        // Any bit pattern but NaN, so frames compare with ==; NaN's bytes are covered by the fuzz invariants.
        func double(_ rng: inout RNG) -> Double {
            let d = Double(bitPattern: UInt64.random(in: .min ... .max, using: &rng))
            return d.isNaN ? 0 : (Bool.random(using: &rng) ? d : Double(Int.random(in: 0...100_000, using: &rng)) / 4)
        }
        switch Int.random(in: 0..<9, using: &rng) {
        case 0: return .hello(version: UInt16.random(in: .min ... .max, using: &rng), pid: Int32.random(in: .min ... .max, using: &rng))
        case 1: return .run(seq: u64(&rng), payload: bytes(&rng))
        case 2: return .started(seq: u64(&rng), timeout: double(&rng))
        case 3: return .done(seq: u64(&rng), micros: u64(&rng))
        case 4:
            return .failed(seq: u64(&rng), micros: u64(&rng), errorClass: string(&rng), message: string(&rng),
                           backtrace: (0..<Int.random(in: 0...4, using: &rng)).map { _ in string(&rng) })
        case 5: return .enqueue(request: u64(&rng), at: double(&rng), payload: bytes(&rng))
        case 6: return .enqueueResult(request: u64(&rng), error: Bool.random(using: &rng) ? string(&rng) : nil)
        case 7: return .drain
        default: return .released(seq: u64(&rng))
        }
    }

    /// Read sizes to feed a stream in: each between 1 and 40 bytes.
    static let readSizes = Gen<Int>.int(in: 1...40).array(of: 1...8)

    // MARK: Damage

    static func damage(_ bytes: [UInt8], _ rng: inout RNG) -> [UInt8] {
        var bytes = bytes
        guard !bytes.isEmpty else { return bytes }
        switch Int.random(in: 0..<4, using: &rng) {
        case 0:
            for _ in 0..<Int.random(in: 1...3, using: &rng) { bytes[Int.random(in: 0..<bytes.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng) }
        case 1:
            bytes.removeLast(Int.random(in: 1...bytes.count, using: &rng))
        case 2:
            let at = Int.random(in: 0...bytes.count, using: &rng)
            bytes.insert(contentsOf: (0..<4).map { _ in UInt8.random(in: 0...255, using: &rng) }, at: at)
        default:
            // A length or count field: the first four bytes set to something small, huge or zero.
            let n = [0, 1, 5, 13, 0xFFFF_FFFF, UInt32.random(in: .min ... .max, using: &rng)][Int.random(in: 0..<6, using: &rng)]
            for i in 0..<min(4, bytes.count) { bytes[i] = UInt8((n >> (8 * UInt32(3 - i))) & 0xFF) }
        }
        return bytes
    }
}
