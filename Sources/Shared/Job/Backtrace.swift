/// Sidekiq's `error_backtrace` format: Base64(zlib(JSON array of strings)).
/// The zlib stream (RFC 1950) uses stored deflate blocks: any inflater reads it, and backtraces are small.
package enum Backtrace {
    package static func encode(_ lines: [String]) -> String {
        let json = JSONWriter.encode(.array(lines.map(JSONValue.string)))
        return Base64.encode(zlibStored(json))
    }

    /// Decodes what Sidekiq (or we) wrote; nil if it is not that format.
    package static func decode(_ text: String) -> [String]? {
        guard let compressed = Base64.decode(text), let json = inflateStored(compressed) ?? nil,
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
}
