/// A promise a decoder broke on one input. The fuzz targets trap on it (libFuzzer then saves the input);
/// the corpus replay in VerkDecoderTests records it as a test failure.
public struct InvariantViolation: Error, Sendable, CustomStringConvertible {
    public let description: String

    init(_ description: String) { self.description = description }
}

/// `try ensure(condition, "what broke")`: an invariant as one line.
func ensure(_ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String) throws(InvariantViolation) {
    if !condition() { throw InvariantViolation(message()) }
}

extension Array where Element == UInt8 {
    /// Bytes for a violation message: short, and readable for text.
    var shown: String {
        let head = prefix(200)
        if let text = String(validating: head, as: UTF8.self) { return "\"\(text)\"" + (count > 200 ? "…" : "") }
        return "[" + head.map { String($0) }.joined(separator: " ") + (count > 200 ? " …" : "") + "]"
    }
}
