/// A Sidekiq job: an open JSON object. Typed accessors read and write the fields this code knows;
/// every other field (bid, tags, wrapped, custom ones) is kept as it was, in place. Jobs Verk and Exq wrote
/// are read as they wrote them and rewritten in a shape they still read (`dialect`).
public struct Job: Sendable, Equatable {
    public private(set) var fields: JSONObject

    /// Decodes a payload leniently, as Sidekiq does: `class` (string) and `args` are required, everything
    /// else is optional and may be null.
    public init(parsing bytes: [UInt8]) throws(JobDecodingError) {
        let value: JSONValue
        do { value = try JSONParser.parse(bytes) } catch { throw .invalidJSON(error) }
        try self.init(value: value)
    }

    public init(value: JSONValue) throws(JobDecodingError) {
        guard case .object(let object) = value else { throw .notAnObject(value.kindDescription) }
        guard case .string(let cls)? = object["class"], !cls.isEmpty else { throw .missingClass }
        guard Self.argsArray(object["args"]) != nil else { throw .argsNotAnArray }
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

    /// Whose rules the job follows: Sidekiq's, Verk's or Exq's.
    public var dialect: JobDialect { JobDialect(of: fields) }

    public var className: String { fields["class"]?.stringValue ?? "" }
    /// The real array, also when the job stores it as a JSON string (Verk); a new value is stored in the
    /// form the job had, so Verk can still read it.
    public var args: [JSONValue] {
        get { Self.argsArray(fields["args"]) ?? [] }
        set {
            if case .string? = fields["args"] {
                fields["args"] = .string(JSONWriter.string(.array(newValue)))
            } else {
                fields["args"] = .array(newValue)
            }
        }
    }
    public var queue: String? {
        get { fields["queue"]?.stringValue }
        set { fields["queue"] = newValue.map(JSONValue.string) }
    }
    /// The queue a push sends the job to, by Sidekiq's client's rule (job_util.rb): `default` when `queue` is
    /// absent; an empty, null or non-string `queue` is refused, as Sidekiq refuses it ("Job must include a
    /// valid queue name"), rather than pushed to a `queue:` list that nothing serves.
    package func pushQueue() throws(JobDecodingError) -> String {
        guard let value = fields["queue"] else { return "default" }
        guard case .string(let name) = value, !name.isEmpty else {
            throw .invalidQueue(value.stringValue != nil ? "an empty string" : value.kindDescription)
        }
        return name
    }
    /// A string; a number (no known system writes one, but it still names the job) reads as its literal.
    public var jid: String? {
        get { fields["jid"]?.stringValue ?? fields["jid"]?.numberValue?.literal }
        set { fields["jid"] = newValue.map(JSONValue.string) }
    }
    /// Sidekiq's `retry`; when a job has none, Verk's integer `max_retry_count` is its limit. Setting a
    /// limit on a Verk job sets `max_retry_count` too, the field Verk reads.
    public var retry: RetrySetting {
        get {
            if fields["retry"] == nil, let limit = fields["max_retry_count"]?.intValue { return .limit(max(0, limit)) }
            return RetrySetting(json: fields["retry"] ?? .bool(true))
        }
        set {
            fields["retry"] = newValue.json
            if fields["max_retry_count"] != nil, case .limit(let n) = newValue { fields["max_retry_count"] = .int(n) }
        }
    }
    /// As stored: Sidekiq's is absent until the first failure and 0 after it (its Web's "Retry now" can make
    /// it -1); Verk's and Exq's are 1 after the first failure. `sidekiqRetryCount` reads any of them.
    public var retryCount: Int? {
        get { fields["retry_count"]?.intValue }
        set { fields["retry_count"] = newValue.map(JSONValue.int) }
    }
    /// Retries so far in Sidekiq's terms, whoever wrote the job: nil on the first run, 0 on the first retry.
    public var sidekiqRetryCount: Int? { dialect.sidekiqRetryCount(stored: retryCount) }
    public var errorClass: String? {
        get { fields["error_class"]?.stringValue }
        set { fields["error_class"] = newValue.map(JSONValue.string) }
    }
    public var errorMessage: String? {
        get { fields["error_message"]?.stringValue }
        set { fields["error_message"] = newValue.map(JSONValue.string) }
    }
    /// `retry_queue`: where retries go instead of the queue the job was fetched from. An empty one names no
    /// queue (Sidekiq would push the retry to `queue:`, which nothing serves) and is ignored.
    public var retryQueue: String? { fields["retry_queue"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 } }
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

    /// `args` as an array: a JSON array (Sidekiq, Exq), or a string holding one (Verk from 1.4 wraps it so
    /// that Lua's cjson cannot mangle it). An empty object is `[]` as cjson re-encodes it, which Verk also
    /// reads as `[]`. Nil for anything else.
    static func argsArray(_ value: JSONValue?) -> [JSONValue]? {
        func array(_ value: JSONValue) -> [JSONValue]? {
            switch value {
            case .array(let elements): return elements
            case .object(let object) where object.count == 0: return []
            default: return nil
            }
        }
        switch value {
        case .string(let text)?: return (try? JSONParser.parse(Array(text.utf8))).flatMap(array)
        case let value?: return array(value)
        case nil: return nil
        }
    }
}

public enum JobDecodingError: Error, Sendable, Equatable, CustomStringConvertible {
    case invalidJSON(JSONError)
    /// What the payload is instead ("an array", "a string", …).
    case notAnObject(String)
    case missingClass
    case argsNotAnArray
    /// What the `queue` is instead of a name ("an empty string", "null", …).
    case invalidQueue(String)

    public var description: String {
        switch self {
        case .invalidJSON(let e): return "job payload is not valid JSON (\(e))"
        case .notAnObject(let kind): return "job payload is \(kind), not a JSON object"
        case .missingClass: return "job payload has no 'class' string naming its worker"
        case .argsNotAnArray: return "job payload's 'args' is missing or is neither a JSON array nor a string holding one (as Verk writes)"
        case .invalidQueue(let what):
            return "job's 'queue' is \(what), not a queue name (Sidekiq's client refuses such a job); give it a queue, or leave 'queue' out for 'default'"
        }
    }
}
