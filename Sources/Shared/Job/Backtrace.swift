/// Sidekiq's `error_backtrace` format: Base64(zlib(JSON array of strings)).
/// The zlib stream (RFC 1950) uses stored deflate blocks: any inflater reads it, and backtraces are small.
package enum Backtrace {
    package static func encode(_ lines: [String]) -> String {
        let json = JSONWriter.encode(.array(lines.map(JSONValue.string)))
        return base64(zlibStored(json))
    }

    /// Decodes what Sidekiq (or we) wrote; nil if it is not that format.
    package static func decode(_ text: String) -> [String]? {
        guard let compressed = unbase64(text), let json = inflateStored(compressed) ?? nil,
              let array = try? JSONParser.parse(json).arrayValue else { return nil }
        return array.compactMap(\.stringValue)
    }

    static func zlibStored(_ data: [UInt8]) -> [UInt8] {
        var out: [UInt8] = [0x78, 0x01]
        var offset = 0
        repeat {
            let n = min(65_535, data.count - offset)
            let final: UInt8 = offset + n == data.count ? 1 : 0
            out.append(final)
            out.append(UInt8(n & 0xFF)); out.append(UInt8(n >> 8))
            out.append(UInt8(~n & 0xFF)); out.append(UInt8((~n >> 8) & 0xFF))
            out.append(contentsOf: data[offset..<offset + n])
            offset += n
        } while offset < data.count
        let a = adler32(data)
        out.append(contentsOf: [UInt8(a >> 24), UInt8((a >> 16) & 0xFF), UInt8((a >> 8) & 0xFF), UInt8(a & 0xFF)])
        return out
    }

    /// Reads our own stored-block streams (Sidekiq's real deflate streams need zlib; we never need to read those).
    static func inflateStored(_ z: [UInt8]) -> [UInt8]?? {
        guard z.count >= 6, z[0] == 0x78 else { return nil }
        var i = 2
        var out: [UInt8] = []
        while i + 5 <= z.count {
            let header = z[i]
            guard header & 0x06 == 0 else { return .some(nil) }
            let n = Int(z[i + 1]) | Int(z[i + 2]) << 8
            i += 5
            guard i + n <= z.count else { return .some(nil) }
            out.append(contentsOf: z[i..<i + n])
            i += n
            if header & 1 == 1 { return out }
        }
        return .some(nil)
    }

    static func adler32(_ data: [UInt8]) -> UInt32 {
        var a: UInt32 = 1, b: UInt32 = 0
        for byte in data {
            a = (a + UInt32(byte)) % 65_521
            b = (b + a) % 65_521
        }
        return b << 16 | a
    }

    static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    static func base64(_ data: [UInt8]) -> String {
        var out: [UInt8] = []
        out.reserveCapacity((data.count + 2) / 3 * 4)
        var i = 0
        while i < data.count {
            let b0 = data[i], b1 = i + 1 < data.count ? data[i + 1] : 0, b2 = i + 2 < data.count ? data[i + 2] : 0
            out.append(alphabet[Int(b0 >> 2)])
            out.append(alphabet[Int((b0 & 0x03) << 4 | b1 >> 4)])
            out.append(i + 1 < data.count ? alphabet[Int((b1 & 0x0F) << 2 | b2 >> 6)] : UInt8(ascii: "="))
            out.append(i + 2 < data.count ? alphabet[Int(b2 & 0x3F)] : UInt8(ascii: "="))
            i += 3
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Lenient: skips newlines (Sidekiq 6.4 writes MIME base64 with a newline every 60 characters).
    static func unbase64(_ text: String) -> [UInt8]? {
        var table = [UInt8](repeating: 0xFF, count: 256)
        for (i, c) in alphabet.enumerated() { table[Int(c)] = UInt8(i) }
        var out: [UInt8] = []
        var acc: UInt32 = 0, bits = 0
        for c in text.utf8 {
            if c == UInt8(ascii: "=") { break }
            if c == 0x0A || c == 0x0D { continue }
            let v = table[Int(c)]
            guard v != 0xFF else { return nil }
            acc = acc << 6 | UInt32(v)
            bits += 6
            if bits >= 8 {
                bits -= 8
                out.append(UInt8((acc >> UInt32(bits)) & 0xFF))
            }
        }
        return out
    }
}
