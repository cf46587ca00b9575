import VerkShared

/// How typed arguments map to Sidekiq's `args` array, both ways.
package enum WorkerArguments {
    /// An Encodable that encodes to a JSON array is used as `args`; anything else becomes `[value]`.
    package static func encode<T: Encodable>(_ value: T) throws -> [JSONValue] {
        if let raw = value as? [JSONValue] { return raw }
        let json = try JSONCoding.value(of: value)
        if case .array(let elements) = json { return elements }
        return [json]
    }

    package static func decode<T: Decodable>(_ type: T.Type, from args: [JSONValue], className: String) throws(JobExecutionError) -> T {
        if let raw = args as? T { return raw }
        do {
            return try JSONCoding.decode(T.self, from: .array(args))
        } catch {
            if args.count == 1, let single = try? JSONCoding.decode(T.self, from: args[0]) { return single }
            throw .invalidArguments(className: className, type: String(describing: T.self), reason: "\(error)")
        }
    }
}

/// Why a job could not run; each becomes the job's `error_class`/`error_message`.
public enum JobExecutionError: Error, Sendable, CustomStringConvertible {
    case invalidPayload(String)
    case unknownWorker(className: String, queue: String, registered: [String])
    case invalidArguments(className: String, type: String, reason: String)

    public var errorClass: String {
        switch self {
        case .invalidPayload: return VerkErrorClass.invalidPayload.rawValue
        case .unknownWorker: return VerkErrorClass.unknownWorker.rawValue
        case .invalidArguments: return VerkErrorClass.invalidArguments.rawValue
        }
    }

    public var description: String {
        switch self {
        case .invalidPayload(let reason):
            return "cannot run job: \(reason)"
        case .unknownWorker(let className, let queue, let registered):
            return "no worker is registered for class '\(className)' (queue '\(queue)'); registered: \(registered.joined(separator: ", ")). Register it in the workers passed to Verk.main"
        case .invalidArguments(let className, let type, let reason):
            return "args of \(className) do not decode as \(type): \(reason)"
        }
    }
}
