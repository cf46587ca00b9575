import Foundation
import Testing
@testable import VerkShared
@testable import VerkWorker

struct SendEmail: Worker {
    struct Arguments: Codable, Equatable { let to: String; let count: Int }
    static let options = WorkerOptions(queue: "mail", retry: .limit(5), backtrace: 10)
    nonisolated(unsafe) static var seen: [Arguments] = []
    func perform(_ args: Arguments, context: JobContext) throws { SendEmail.seen.append(args) }
}

struct Slow: Worker {
    static let options = WorkerOptions(timeout: 30)
    func perform(_ args: [JSONValue], context: JobContext) throws {}
}

struct Sum: Worker {
    static let className = "Billing::Sum"
    nonisolated(unsafe) static var total = 0
    func perform(_ args: [Int], context: JobContext) throws { Sum.total = args.reduce(0, +) }
}

/// Records enqueues instead of sending them (pure-logic test of the worker API).
final class RecordingEnqueuer: JobEnqueuer, @unchecked Sendable {
    var jobs: [Job] = []
    func enqueue(_ job: Job, at: Double?) throws -> String { jobs.append(job); return job.jid ?? "" }
}

@Suite(.serialized) struct WorkerAPITests {
    let registry: WorkerRegistry

    init() throws { registry = try WorkerRegistry([SendEmail.self, Sum.self, Slow.self]) }

    func run(_ json: String, queue: String = "mail") -> JobRunner.Result {
        JobRunner(registry: registry, queue: queue, enqueuer: RecordingEnqueuer()).run(Array(json.utf8))
    }

    @Test func typedArgumentsDecodeFromARubyStyleHashOrAnArray() {
        SendEmail.seen = []
        #expect(run(#"{"class":"SendEmail","args":[{"to":"a@b","count":2}]}"#) == .done)
        #expect(run(#"{"class":"Billing::Sum","args":[1,2,3]}"#) == .done)
        #expect(SendEmail.seen == [SendEmail.Arguments(to: "a@b", count: 2)])
        #expect(Sum.total == 6)
    }

    @Test func badInputBecomesAPreciseFailureNotACrash() {
        guard case .failed(let unknown) = run(#"{"class":"Nope","args":[]}"#) else { Issue.record("expected failure"); return }
        #expect(unknown.errorClass == "Verk.UnknownWorker" && unknown.message.contains("Billing::Sum, SendEmail, Slow"))
        guard case .failed(let args) = run(#"{"class":"SendEmail","args":["x"]}"#) else { Issue.record("expected failure"); return }
        #expect(args.errorClass == "Verk.InvalidArguments")
        guard case .failed(let payload) = run("{not json") else { Issue.record("expected failure"); return }
        #expect(payload.errorClass == "Verk.InvalidPayload")
    }

    @Test func typedEnqueueUsesTheWorkersOptions() throws {
        let job = try Job(SendEmail.self, .init(to: "x@y", count: 1))
        #expect(job.queue == "mail" && job.retry == .limit(5) && job.backtraceLines == 10)
        #expect(job.args == [["count": 1, "to": "x@y"]])
        let sum = try Job(Sum.self, [1, 2])
        #expect(sum.className == "Billing::Sum" && sum.args == [1, 2] && sum.queue == "default")
    }

    @Test func contextEnqueueNormalizesLikeTheClient() throws {
        let enqueuer = RecordingEnqueuer()
        let context = JobContext(job: Job(className: "A", args: []), queue: "default", enqueuer: enqueuer)
        try context.enqueue(Sum.self, [4])
        #expect(enqueuer.jobs.first?.jid?.count == 24 && enqueuer.jobs.first?.createdAt != nil)
    }

    @Test func theStartReportCarriesTheHardTimeoutFromTheWorkerOrTheJob() {
        let runner = JobRunner(registry: registry, queue: "q", enqueuer: RecordingEnqueuer())
        var reported: [Double] = []
        _ = runner.run(Array(#"{"class":"Slow","args":[]}"#.utf8)) { reported.append($0) }
        _ = runner.run(Array(#"{"class":"Slow","args":[],"timeout":2.5}"#.utf8)) { reported.append($0) }
        _ = runner.run(Array(#"{"class":"Billing::Sum","args":[]}"#.utf8)) { reported.append($0) }
        #expect(reported == [30, 2.5, 0])
    }

    @Test func duplicateClassNamesAreRefused() {
        #expect(throws: RegistryError.self) { try WorkerRegistry([Sum.self, Sum.self]) }
    }
}
