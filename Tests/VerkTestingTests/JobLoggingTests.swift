import InMemoryLogging
import Logging
import Testing
import VerkShared
import VerkTesting
@testable import VerkWorker

@Suite struct JobLoggingTests {
    /// The chain a worker process builds for a `job_log_level` setting, logging into `handler`.
    func runner(jobLogLevel: String, handler: InMemoryLogHandler, app: [any ServerMiddleware] = []) throws -> JobRunner {
        let logger = Logger(label: "test") { _ in handler }
        return JobRunner(registry: try WorkerRegistry(testWorkers), queue: "mail", enqueuer: RecordingEnqueuer(),
                         middleware: WorkerProcessMain.serverMiddleware(jobLogLevel: jobLogLevel, app: app, logger: logger),
                         logger: logger)
    }

    @Test func atInfoEachJobLogsOneLineWithItsJidClassQueueAndDuration() throws {
        let handler = InMemoryLogHandler()
        var job = Job(className: "Record", args: [.string(Trail.newToken())], queue: "mail")
        job.jid = "00112233445566778899aabb"
        #expect(try runner(jobLogLevel: "info", handler: handler).run(job.encoded()) == .done)
        #expect(handler.entries.count == 1)
        let entry = try #require(handler.entries.first)
        #expect(entry.level == .info && entry.message == "job done")
        #expect(entry.metadata["jid"] == "00112233445566778899aabb")
        #expect(entry.metadata["class"] == "Record" && entry.metadata["queue"] == "mail")
        #expect(Double(entry.metadata["duration_ms"]?.description ?? "") != nil)
        #expect(entry.metadata["error_class"] == nil)
    }

    @Test func aFailureLogsTheErrorClassItWillBeRecordedWith() throws {
        let handler = InMemoryLogHandler()
        let failed = try runner(jobLogLevel: "warning", handler: handler, app: [Quota()]).run(payload("Record", ["t"]))
        guard case .failed(let failure) = failed else { Issue.record("expected a failure"); return }
        let entry = try #require(handler.entries.first)
        #expect(entry.level == .warning && entry.message == "job failed")
        #expect(entry.metadata["error_class"]?.description == failure.errorClass)
    }

    @Test func offWritesNoPerJobLine() throws {
        let handler = InMemoryLogHandler()
        #expect(try runner(jobLogLevel: "off", handler: handler).run(payload("Record", ["t"])) == .done)
        #expect(try runner(jobLogLevel: "OFF", handler: handler).run(payload("Fail", ["t"])) != .done)
        #expect(handler.entries.isEmpty)
    }

    @Test func aSettingThatIsNoLevelIsRefusedAndTheWorkerProcessFallsBackToInfo() throws {
        #expect(throws: ConfigurationError.self) { try JobLoggingMiddleware.level(setting: "loud") }
        #expect(try JobLoggingMiddleware.level(setting: "Debug") == .debug)
        let handler = InMemoryLogHandler()
        _ = try runner(jobLogLevel: "loud", handler: handler).run(payload("Record", ["t"]))
        let messages = handler.entries.map(\.message.description)
        #expect(messages.count == 2 && messages.last == "job done")
        #expect(messages.first?.contains("job_log_level") == true && messages.first?.contains("'loud'") == true)
        #expect(messages.first?.hasSuffix("logging each job at info") == true)
    }

    @Test func aJobsLoggerCarriesItsJidAndQueue() throws {
        let handler = InMemoryLogHandler()
        struct Chatty: Worker {
            func perform(_ args: [JSONValue], context: JobContext) throws { context.logger.notice("hello") }
        }
        let jobs = try InlineEnqueuer(workers: [Chatty.self], logger: Logger(label: "test") { _ in handler })
        let jid = try jobs.enqueue(Job(className: "Chatty", args: [], queue: "chat"))
        let entry = try #require(handler.entries.first)
        #expect(entry.message == "hello" && entry.metadata["jid"]?.description == jid && entry.metadata["queue"] == "chat")
    }
}
