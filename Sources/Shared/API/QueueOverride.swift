/// One runtime command for one queue as stored in an override hash: the value is the concurrency as a
/// decimal string, or `removed`.
public enum QueueOverride: Sendable, Equatable {
    case add(concurrency: Int)
    case removed

    static let removedValue = "removed"

    /// The hash value this entry is stored as.
    public var redisValue: String {
        switch self {
        case .add(let concurrency): return String(concurrency)
        case .removed: return Self.removedValue
        }
    }

    /// Reads one hash entry with the configuration's rules for names and concurrency.
    static func parse(queue: String, value: String) throws(ConfigurationError) -> QueueOverride {
        if value == removedValue {
            try QueueConfiguration(queue, concurrency: 1).validate()
            return .removed
        }
        guard let concurrency = Int(value) else {
            throw .invalid(field: "queues", value: "\(queue):\(value)", reason: "expected a concurrency (a whole number) or '\(removedValue)'")
        }
        try QueueConfiguration(queue, concurrency: concurrency).validate()
        return .add(concurrency: concurrency)
    }
}
