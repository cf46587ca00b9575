// The README's worker, client, middleware and testing examples, compiled (and the tests run) so the README
// cannot drift from the API.
import Testing
import Verk
import VerkTesting

enum ReadmeSnippet {
    enum Mailer { static func send(to: String, subject: String) throws {} }

    struct SendEmail: Worker {
        struct Arguments: Codable { let to: String; let subject: String }
        static let options = WorkerOptions(queue: "mail", retry: .limit(5))

        func perform(_ args: Arguments, context: JobContext) throws {
            try Mailer.send(to: args.to, subject: args.subject)
            try context.enqueue(AuditLog.self, [.string("sent \(context.jid)")])
        }
    }

    struct AuditLog: Worker {
        static let className = "Audit::Log"
        static func retryAt(failedAt: Double, retryCount: Int) -> Double? { failedAt + 60 }
        func perform(_ args: [JSONValue], context: JobContext) throws { print(args, context.retryCount ?? 0) }
    }

    func readmeClientExample(ids: [Int]) throws {
        let client = try VerkClient(url: "redis://127.0.0.1:6379/0")
        try client.enqueue(SendEmail.self, .init(to: "ada@example.com", subject: "hi"))
        try client.enqueue("HardJob", args: [1, "a"], queue: "default")
        try client.schedule(Job(className: "Cleanup", args: []), in: 3600)
        try client.enqueue(many: ids.map { Job(className: "Welcome", args: [.int($0)]) })
        var configuration = VerkConfiguration()
        configuration.queues = [QueueConfiguration("default", concurrency: 10), QueueConfiguration("mail", concurrency: 5)]
        _ = [SendEmail.self, AuditLog.self] as [any Worker.Type]
    }

    static func alert(_ message: String) {}
    static func keep(_ supervisor: Supervisor) {}

    /// The README's "Queues at runtime, and events" example (everything but the call to Verk.main, which never returns).
    static func readmeRuntimeExample(supervisor: Supervisor) throws {
        let onStart: (Supervisor) -> Void = { supervisor in
            supervisor.events.onEvent { event in print(event) }
            Task {
                for await event in supervisor.events.events() {
                    if case .queueFailing(let queue, _) = event { alert("queue \(queue) keeps crashing") }
                }
            }
            keep(supervisor)
        }
        onStart(supervisor)
        try supervisor.addQueue("reports", concurrency: 2)
        try supervisor.removeQueue("reports")
        try supervisor.pause("mail")
        let stats = try supervisor.queueStats()
        _ = stats
    }
}

extension ReadmeSnippet {
    struct RequireTenant: ServerMiddleware {
        func call(_ job: Job, context: JobContext, next: (Job) throws -> Void) throws {
            guard let tenant = job["tenant"]?.stringValue else { throw MiddlewareRejection("job has no tenant") }
            context.logger.debug("running for \(tenant)")
            try next(job)
        }
    }

    struct AddTenant: ClientMiddleware {
        let tenant: String
        func willPush(_ job: inout Job, at: Double?) throws -> Bool {
            job["tenant"] = .string(tenant)
            return true
        }
    }

    func readmeMiddlewareExample(configuration: VerkConfiguration) -> Never {
        Verk.main(configuration: configuration, workers: [SendEmail.self, AuditLog.self],
                  middleware: [RequireTenant()], clientMiddleware: [AddTenant(tenant: "acme")])
    }

    static func welcome(_ email: String, jobs: any JobEnqueuer) throws {
        try jobs.enqueue(SendEmail.self, .init(to: email, subject: "welcome"))
    }

    @Suite struct TestingYourWorkers {
        @Test func welcomeQueuesAnEmail() throws {
            let verk = try FakeEnqueuer(workers: [SendEmail.self, AuditLog.self])
            try welcome("ada@example.com", jobs: verk)
            #expect(try verk.jobs(of: SendEmail.self).map(\.to) == ["ada@example.com"])
            #expect(verk.jobs(in: "mail").count == 1)
            #expect(try verk.drain() == 2)
            #expect(verk.count == 0)
        }

        @Test func welcomeSendsAnEmail() throws {
            let verk = try InlineEnqueuer(workers: [SendEmail.self, AuditLog.self])
            try welcome("ada@example.com", jobs: verk)
        }
    }
}
