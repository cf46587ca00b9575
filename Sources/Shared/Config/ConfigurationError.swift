/// Why a configuration was refused: always the field or file, the value, and what would be right.
public enum ConfigurationError: Error, Sendable, Equatable, CustomStringConvertible {
    case invalid(field: String, value: String, reason: String)
    case unknownField(String, source: String)
    case unreadableFile(String)
    case invalidFile(String, reason: String)

    public var description: String {
        switch self {
        case .invalid(let field, let value, let reason): return "invalid configuration \(field) = '\(value)': \(reason)"
        case .unknownField(let field, let source): return "unknown configuration field '\(field)' in \(source)"
        case .unreadableFile(let path): return "cannot read configuration file \(path)"
        case .invalidFile(let path, let reason): return "configuration file \(path) is invalid: \(reason)"
        }
    }
}
