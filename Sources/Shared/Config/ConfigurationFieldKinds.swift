import FoundationEssentials

/// The kinds of field the table is made of: each parses text one way and stores it through a key path.
extension ConfigurationField {
    static func wholeNumber(_ key: String, aliases: [String] = [], _ path: WritableKeyPath<VerkConfiguration, Int> & Sendable,
                            default defaultValue: Default, _ summary: String) -> ConfigurationField {
        scalar(key, aliases: aliases, kind: "whole number", path, default: defaultValue, summary) { text, name throws(ConfigurationError) in
            try parseWholeNumber(text, name)
        }
    }

    /// A whole number where leaving it out means "derived" (the queue's concurrency, no limit).
    static func optionalWholeNumber(_ key: String, _ path: WritableKeyPath<VerkConfiguration, Int?> & Sendable,
                                    default defaultValue: Default, _ summary: String) -> ConfigurationField {
        scalar(key, kind: "whole number", path, default: defaultValue, summary) { text, name throws(ConfigurationError) in
            try parseWholeNumber(text, name)
        }
    }

    static func seconds(_ key: String, _ path: WritableKeyPath<VerkConfiguration, Double> & Sendable,
                        default defaultValue: Default, _ summary: String) -> ConfigurationField {
        scalar(key, kind: "seconds", path, default: defaultValue, summary) { text, name throws(ConfigurationError) in
            // Double reads "inf", "nan" and "1e999" too: none is a number of seconds.
            guard let seconds = Double(text), seconds.isFinite else { throw .invalid(field: name, value: text, reason: "expected seconds") }
            return seconds
        }
    }

    static func text(_ key: String, _ path: WritableKeyPath<VerkConfiguration, String> & Sendable,
                     default defaultValue: Default, _ summary: String) -> ConfigurationField {
        scalar(key, kind: "text", path, default: defaultValue, summary) { text, _ in text }
    }

    /// The field's value is read from a file (a mounted Kubernetes Secret), so it is never in the
    /// environment or on a command line; surrounding whitespace is dropped.
    static func textFromFile(_ key: String, _ path: WritableKeyPath<VerkConfiguration, String> & Sendable,
                             default defaultValue: Default, _ summary: String) -> ConfigurationField {
        scalar(key, kind: "file path", path, default: defaultValue, summary) { file, name throws(ConfigurationError) in
            guard let data = FileManager.default.contents(atPath: file) else {
                throw .invalid(field: name, value: file, reason: "cannot read the file; mount it (a Kubernetes Secret) or fix the path")
            }
            return String(decoding: data, as: UTF8.self).trimmingWhitespace()
        }
    }

    static func optionalText(_ key: String, _ path: WritableKeyPath<VerkConfiguration, String?> & Sendable,
                             default defaultValue: Default, _ summary: String) -> ConfigurationField {
        scalar(key, kind: "text", path, default: defaultValue, summary) { text, _ in text }
    }

    /// One of a fixed list of words, in any case; refused when applied, so the error can name its source.
    static func choice(_ key: String, _ path: WritableKeyPath<VerkConfiguration, String> & Sendable, from allowed: [String],
                       default defaultValue: Default, _ summary: String) -> ConfigurationField {
        scalar(key, kind: "one of " + allowed.joined(separator: ", "), path, default: defaultValue, summary) { text, name throws(ConfigurationError) in
            let word = text.lowercased()
            guard allowed.contains(word) else { throw .invalid(field: name, value: text, reason: "use " + listed(allowed)) }
            return word
        }
    }

    /// `default:10,mail:5` in the environment; `{"default": 10, "mail": 5}` or `["default:10", "mail:5"]` in a file.
    static func queueList(_ key: String, _ path: WritableKeyPath<VerkConfiguration, [QueueConfiguration]> & Sendable,
                          default defaultValue: Default, _ summary: String) -> ConfigurationField {
        ConfigurationField(key: key, aliases: [], valueKind: "queue list", defaultValue: defaultValue, summary: summary) {
            value, _, configuration throws(ConfigurationError) in
            configuration[keyPath: path] = try parseQueues(value)
        }
    }

    private static func parseQueues(_ value: ConfigurationValue) throws(ConfigurationError) -> [QueueConfiguration] {
        switch value {
        case .text(let list):
            return try list.split(separator: ",").map { item throws(ConfigurationError) in
                try QueueConfiguration(parsing: item.trimmingSpaces())
            }
        case .json(let json):
            if let map = json.objectValue {
                return try map.map { member throws(ConfigurationError) in
                    guard let concurrency = member.value.intValue else {
                        throw .invalid(field: "queues.\(member.key)", value: JSONWriter.string(member.value), reason: "expected a concurrency number")
                    }
                    return QueueConfiguration(member.key, concurrency: concurrency)
                }
            }
            if let list = json.arrayValue {
                return try list.map { item throws(ConfigurationError) in try QueueConfiguration(parsing: item.stringValue ?? "") }
            }
            throw .invalid(field: "queues", value: JSONWriter.string(json), reason: #"expected {"name": concurrency} or ["name:concurrency"]"#)
        }
    }

    /// A field whose value is one piece of text in a file and in the environment alike.
    private static func scalar<Value>(
        _ key: String, aliases: [String] = [], kind: String, _ path: WritableKeyPath<VerkConfiguration, Value> & Sendable,
        default defaultValue: Default, _ summary: String,
        parse: @escaping @Sendable (_ text: String, _ name: String) throws(ConfigurationError) -> Value
    ) -> ConfigurationField {
        ConfigurationField(key: key, aliases: aliases, valueKind: kind, defaultValue: defaultValue, summary: summary) {
            value, name, configuration throws(ConfigurationError) in
            configuration[keyPath: path] = try parse(try value.text(field: name), name)
        }
    }

    private static func parseWholeNumber(_ text: String, _ name: String) throws(ConfigurationError) -> Int {
        guard let number = Int(text) else { throw .invalid(field: name, value: text, reason: "expected a whole number") }
        return number
    }

    /// `a, b or c`, as refusals list the words a choice accepts.
    static func listed(_ words: [String]) -> String {
        guard let last = words.last, words.count > 1 else { return words.first ?? "" }
        return words.dropLast().joined(separator: ", ") + " or " + last
    }
}
