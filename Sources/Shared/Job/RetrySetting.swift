/// The `retry` field of a job, with Sidekiq's meaning.
public enum RetrySetting: Sendable, Equatable {
    /// `true`, `null` (Sidekiq 6.4's job_retry.rb gives a nil `retry` the worker's option, by default
    /// `true`), or a value Sidekiq does not recognise: up to the configured maximum (25).
    case enabled
    /// `false`: no retry, and no dead set either; the job is discarded on failure.
    case disabled
    /// An integer N: at most N retries. `0` is truthy in Ruby: no retry, straight to the dead set.
    case limit(Int)

    public init(json: JSONValue?) {
        switch json {
        case .bool(false): self = .disabled
        case .number(let n): self = n.intValue.map { .limit(max(0, $0)) } ?? .enabled
        default: self = .enabled
        }
    }

    public var json: JSONValue {
        switch self {
        case .enabled: return .bool(true)
        case .disabled: return .bool(false)
        case .limit(let n): return .int(n)
        }
    }
}
