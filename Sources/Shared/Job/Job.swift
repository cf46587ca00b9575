/// A Sidekiq job: an open JSON object. Typed accessors read and write the fields this code knows;
/// every other field (bid, tags, wrapped, custom ones) is kept as it was, in place.
public struct Job: Sendable, Equatable {
    public private(set) var fields: JSONObject

    /// Decodes a payload leniently, as Sidekiq does: `class` (string) and `args` (array) are required,
    /// everything else is optional.
    public init(parsing bytes: [UInt8]) throws(JobDecodingError) {
        let value: JSONValue
        do { value = try JSONParser.parse(bytes) } catch { throw .invalidJSON(error) }
        try self.init(value: value)
    }

    public init(value: JSONValue) throws(JobDecodingError) {
        guard case .object(let object) = value else { throw .notAnObject }
        guard case .string(let cls)? = object["class"], !cls.isEmpty else { throw .missingClass }
        guard case .array? = object["args"] else { throw .argsNotAnArray }
        fields = object
    }

    /// A new job; `jid` and `created_at` are set by the client at push.
    public init(className: String, args: [JSONValue], queue: String = "default", retry: RetrySetting = .enabled) {
        fields = ["class": .string(className), "args": .array(args), "queue": .string(queue), "retry": retry.json]
    }

    public func encoded() -> [UInt8] { JSONWriter.encode(.object(fields)) }
    public var json: String { JSONWriter.string(.object(fields)) }

    public subscript(field: String) -> JSONValue? {
        get { fields[field] }
        set { fields[field] = newValue }
    }

    public var className: String { fields["class"]?.stringValue ?? "" }
    public var args: [JSONValue] {
        get { fields["args"]?.arrayValue ?? [] }
        set { fields["args"] = .array(newValue) }
    }
    public var queue: String? {
        get { fields["queue"]?.stringValue }
        set { fields["queue"] = newValue.map(JSONValue.string) }
    }
    public var jid: String? {
        get { fields["jid"]?.stringValue }
        set { fields["jid"] = newValue.map(JSONValue.string) }
    }
    public var retry: RetrySetting {
        get { RetrySetting(json: fields["retry"] ?? .bool(true)) }
        set { fields["retry"] = newValue.json }
    }
    /// Absent until the first failure, 0 after it; Sidekiq Web's "Retry now" can make it -1.
    public var retryCount: Int? {
        get { fields["retry_count"]?.intValue }
        set { fields["retry_count"] = newValue.map(JSONValue.int) }
    }
    public var createdAt: Double? {
        get { Timestamp.seconds(from: fields["created_at"]) }
        set { fields["created_at"] = newValue.map(Timestamp.json) }
    }
    public var enqueuedAt: Double? {
        get { Timestamp.seconds(from: fields["enqueued_at"]) }
        set { fields["enqueued_at"] = newValue.map(Timestamp.json) }
    }
    public var failedAt: Double? {
        get { Timestamp.seconds(from: fields["failed_at"]) }
        set { fields["failed_at"] = newValue.map(Timestamp.json) }
    }
    public var retriedAt: Double? {
        get { Timestamp.seconds(from: fields["retried_at"]) }
        set { fields["retried_at"] = newValue.map(Timestamp.json) }
    }
    public var errorClass: String? {
        get { fields["error_class"]?.stringValue }
        set { fields["error_class"] = newValue.map(JSONValue.string) }
    }
    public var errorMessage: String? {
        get { fields["error_message"]?.stringValue }
        set { fields["error_message"] = newValue.map(JSONValue.string) }
    }
    /// `retry_queue`: where retries go instead of the queue the job was fetched from.
    public var retryQueue: String? { fields["retry_queue"]?.stringValue }
    /// `dead: false` skips the dead set when retries are exhausted.
    public var skipsDeadSet: Bool { fields["dead"] == .bool(false) }
    /// The `backtrace` option: nil = none, Int.max = all lines, N = first N lines.
    public var backtraceLines: Int? {
        switch fields["backtrace"] {
        case .bool(true)?: return Int.max
        case .number(let n)?: return n.intValue.flatMap { $0 > 0 ? $0 : nil }
        default: return nil
        }
    }
}

public enum JobDecodingError: Error, Sendable, Equatable, CustomStringConvertible {
    case invalidJSON(JSONError)
    case notAnObject
    case missingClass
    case argsNotAnArray

    public var description: String {
        switch self {
        case .invalidJSON(let e): return "job payload is not valid JSON (\(e))"
        case .notAnObject: return "job payload is not a JSON object"
        case .missingClass: return "job payload has no 'class' string"
        case .argsNotAnArray: return "job payload's 'args' is missing or not a JSON array"
        }
    }
}
