/// One configuration field: its names in a JSON file and in the environment, how a value is parsed and
/// stored, and what the documentation says about it. `ConfigurationField.all` is the one table that
/// `apply(file:)`, `apply(environment:)` and the README's list read, so a field is added in one place.
public struct ConfigurationField: Sendable {
    /// The JSON file key, e.g. `shutdown_timeout`; its variable is `VERK_SHUTDOWN_TIMEOUT`.
    public let key: String
    /// Other names for the same field, in files and as `VERK_*` variables (`dead_max_jobs` is Exq's name).
    public let aliases: [String]
    /// What a value looks like: "whole number", "seconds", "queue list"…
    public let valueKind: String
    /// The default, as a value of this field where there is one (`25`), else in words (`the hostname`).
    public let defaultValue: Default
    /// One line on what the field does.
    public let summary: String
    /// Parses a value written under `name` and stores it.
    let assign: @Sendable (_ value: ConfigurationValue, _ name: String, _ configuration: inout VerkConfiguration) throws(ConfigurationError) -> Void

    public var names: [String] { [key] + aliases }
    public var environmentVariable: String { Self.environmentVariable(for: key) }
    /// The variables of the key and of each alias.
    public var environmentVariables: [String] { names.map(Self.environmentVariable(for:)) }

    static func environmentVariable(for name: String) -> String { "VERK_" + name.uppercased() }

    /// A field's default: text the field parses, or words for one that is worked out at run time.
    public enum Default: Sendable, Equatable, CustomStringConvertible {
        case value(String)
        case words(String)

        public var description: String {
            switch self {
            case .value(let text), .words(let text): return text
            }
        }
    }

    /// Stores `value`, written as `name` in `source` (a file path or a variable name).
    func apply(_ value: ConfigurationValue, as name: String, from source: String,
               to configuration: inout VerkConfiguration) throws(ConfigurationError) {
        do {
            try assign(value, name, &configuration)
        } catch {
            // Every refusal says where the value came from: the same field can be set by a file and a variable.
            guard case .invalid(let field, let shown, let reason) = error else { throw error }
            throw .invalid(field: field, value: shown, reason: "\(reason) (from \(source))")
        }
    }
}

/// A value as it arrives: the text of a `VERK_*` variable, or a member of a JSON file.
enum ConfigurationValue: Sendable {
    case text(String)
    case json(JSONValue)

    /// The value as text: a file may write a scalar field as a string or as a number.
    func text(field: String) throws(ConfigurationError) -> String {
        switch self {
        case .text(let text): return text
        case .json(let value):
            if let string = value.stringValue { return string }
            if let number = value.numberValue { return number.literal }
            throw .invalid(field: field, value: JSONWriter.string(value), reason: "expected a string or number")
        }
    }
}
