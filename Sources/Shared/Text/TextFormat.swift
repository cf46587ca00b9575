import Glibc

/// The few number formats the library writes, and white space trimming: what `String(format:)` and
/// `trimmingCharacters(in:)` did, without linking Foundation.
package enum TextFormat {
    /// `value` with exactly `decimals` digits after the point, rounded as printf's `%.Nf` (`fixed(1.25, decimals: 1)` is "1.2").
    package static func fixed(_ value: Double, decimals: Int) -> String {
        withVaList([Int32(decimals), value]) { arguments in
            var buffer = [CChar](repeating: 0, count: 32)
            let needed = Int(vsnprintf(&buffer, buffer.count, "%.*f", arguments))
            if needed >= buffer.count {
                buffer = [CChar](repeating: 0, count: needed + 1)
                return withVaList([Int32(decimals), value]) { again in
                    _ = vsnprintf(&buffer, buffer.count, "%.*f", again)
                    return String(cString: buffer)
                }
            }
            return String(cString: buffer)
        }
    }

    /// `value` in decimal with zeros in front up to `width` characters, as printf's `%0Nd`.
    package static func zeroPadded(_ value: Int, width: Int) -> String {
        let digits = String(value.magnitude)
        let sign = value < 0 ? "-" : ""
        let zeros = max(0, width - sign.count - digits.count)
        return sign + String(repeating: "0", count: zeros) + digits
    }
}

extension StringProtocol {
    /// Without white space or line breaks at either end, as Foundation's `.whitespacesAndNewlines` trims:
    /// Unicode's White_Space, and the zero width space.
    package func trimmingWhitespace() -> String {
        trimmingScalars { $0.properties.isWhitespace || $0 == "\u{200B}" }
    }

    /// Without spaces or tabs at either end (line breaks kept), as Foundation's `.whitespaces` trims.
    package func trimmingSpaces() -> String {
        trimmingScalars { $0 == "\t" || $0 == "\u{200B}" || $0.properties.generalCategory == .spaceSeparator }
    }

    private func trimmingScalars(_ drop: (Unicode.Scalar) -> Bool) -> String {
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { !drop($0) }), let last = scalars.lastIndex(where: { !drop($0) }) else { return "" }
        var kept = String.UnicodeScalarView()
        kept.append(contentsOf: scalars[first...last])
        return String(kept)
    }
}
