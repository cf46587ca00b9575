import Synchronization
import VerkShared
import VerkWorker

// Small equivalents of the demo workers (the demo is an executable target, which tests cannot import).
// Every job carries its test's token as its first argument and writes what it did to `Trail` under it,
// so tests that run at the same time never see each other's jobs.

/// What jobs did, per test token, in order.
enum Trail {
    private static let entries = Mutex<[String: [String]]>([:])

    static func add(_ token: String, _ entry: String) { entries.withLock { $0[token, default: []].append(entry) } }
    static func of(_ token: String) -> [String] { entries.withLock { $0[token] ?? [] } }
    static func newToken() -> String { JobID.generate() }
}

/// The README's SendEmail: typed arguments, its own queue, and an audit job enqueued from inside.
struct SendEmail: Worker {
    struct Arguments: Codable, Equatable { let token: String; let to: String }
    static let options = WorkerOptions(queue: "mail", retry: .limit(5))

    func perform(_ args: Arguments, context: JobContext) throws {
        Trail.add(args.token, "sent \(args.to)")
        try context.enqueue(AuditLog.self, [.string(args.token), .string("sent \(args.to)")])
    }
}

/// JSON arguments and a Sidekiq-style class name: `[token, text]`.
struct AuditLog: Worker {
    static let className = "Audit::Log"

    func perform(_ args: [JSONValue], context: JobContext) throws {
        Trail.add(args.first?.stringValue ?? "", "audit \(args.dropFirst().first?.stringValue ?? "")")
    }
}

/// `[token, …]`: records its args after the token and what its context says.
struct Record: Worker {
    func perform(_ args: [JSONValue], context: JobContext) throws {
        let rest = args.dropFirst().map { $0.stringValue ?? JSONWriter.string($0) }
        Trail.add(args.first?.stringValue ?? "", "record \(rest.joined(separator: ",")) queue=\(context.queue)")
    }
}

/// `[token, message]`: throws `Boom`.
struct Fail: Worker {
    struct Boom: Error, Equatable, CustomStringConvertible { let description: String }

    func perform(_ args: [JSONValue], context: JobContext) throws {
        Trail.add(args.first?.stringValue ?? "", "fail")
        throw Boom(description: args.dropFirst().first?.stringValue ?? "boom")
    }
}

/// `[token, n]`: enqueues itself with n + 1, forever.
struct Forever: Worker {
    func perform(_ args: [JSONValue], context: JobContext) throws {
        let n = args.dropFirst().first?.intValue ?? 0
        try context.enqueue("Forever", args: [args.first ?? "", .int(n + 1)])
    }
}

let testWorkers: [any Worker.Type] = [SendEmail.self, AuditLog.self, Record.self, Fail.self, Forever.self]

/// App code written against the protocol, as a user's would be: it runs unchanged with any enqueuer.
func signUp(_ email: String, token: String, jobs: any JobEnqueuer) throws {
    try jobs.enqueue(SendEmail.self, .init(token: token, to: email))
}

/// Takes whatever a running job's context hands on (the worker process's path to its supervisor).
final class RecordingEnqueuer: JobEnqueuer, Sendable {
    private let received = Mutex<[(job: Job, at: Double?)]>([])
    var jobs: [(job: Job, at: Double?)] { received.withLock { $0 } }

    func enqueue(_ job: Job, at: Double?) throws -> String {
        received.withLock { $0.append((job, at)) }
        return job.jid ?? ""
    }
}

/// A payload as Redis would hold it.
func payload(_ className: String, _ args: [JSONValue], queue: String = "default") -> [UInt8] {
    var job = Job(className: className, args: args, queue: queue)
    job.jid = JobID.generate()
    return job.encoded()
}
