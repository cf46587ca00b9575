import Foundation
import Testing
@testable import VerkShared
@testable import VerkSupervisor
@testable import VerkWorker

/// Every kind of bad input is parked as a well-formed Sidekiq job that keeps the original bytes and says
/// what was wrong; the one move out of the in-progress list is atomic (one script).
@Suite struct ParkedPayloadTests {
    struct Case: Sendable, CustomTestStringConvertible {
        let name: String
        let bytes: [UInt8]
        let reason: String
        let className: String
        let jid: String?
        let args: [JSONValue]
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(name: "not JSON", bytes: Array("{not json".utf8), reason: "is not valid JSON (invalid JSON at byte 1",
             className: ParkedPayload.placeholderClass, jid: nil, args: []),
        Case(name: "a JSON array", bytes: Array(#"["HardJob",1]"#.utf8), reason: "job payload is an array, not a JSON object",
             className: ParkedPayload.placeholderClass, jid: nil, args: []),
        Case(name: "no class", bytes: Array(#"{"args":[1,"a"],"jid":"j-noclass","created_at":1700000000.25}"#.utf8),
             reason: "has no 'class' string", className: ParkedPayload.placeholderClass, jid: "j-noclass", args: [1, "a"]),
        Case(name: "args not an array", bytes: Array(#"{"class":"HardJob","args":7,"jid":"j-args","tags":"x"}"#.utf8),
             reason: "'args' is missing or is neither a JSON array", className: "HardJob", jid: "j-args", args: []),
        Case(name: "invalid UTF-8", bytes: Array(#"{"class":"HardJob","args":[""#.utf8) + [0xFF, 0xFE] + Array(#""],"jid":"j-utf8"}"#.utf8),
             reason: "string is not valid UTF-8", className: "HardJob", jid: "j-utf8", args: []),
    ]

    @Test(arguments: cases)
    func eachBadPayloadIsParkedAsAWellFormedJobThatKeepsItsBytes(_ c: Case) throws {
        let reason: JobDecodingError
        do { _ = try Job(parsing: c.bytes); Issue.record("\(c.name) parsed as a job"); return } catch { reason = error }
        let parked = try Job(parsing: ParkedPayload.park(c.bytes, reason: reason, origin: .queue("mail"), now: 1_800_000_000.5).encoded())
        #expect(parked.className == c.className)
        #expect(parked["args"] == .array(c.args))
        #expect(parked.queue == "mail")
        if let jid = c.jid { #expect(parked.jid == jid) } else { #expect(parked.jid?.count == 24) }
        #expect(parked.errorClass == "Verk.InvalidPayload")
        let message = try #require(parked.errorMessage)
        #expect(message.contains(c.reason), "\(message)")
        #expect(message.contains("fetched from queue 'mail'") && message.contains("fix it and push it again"), "\(message)")
        #expect(parked.failedAt == 1_800_000_000.5)
        #expect(parked["retry"] == nil && parked["tags"] == nil, "nothing of uncertain type is carried over")
        #expect(ParkedPayload.isParked(parked))
        #expect(ParkedPayload.original(of: parked) == c.bytes, "the original bytes come back exactly")
        let utf8 = String(validating: c.bytes, as: UTF8.self) != nil
        #expect((parked[ParkedPayload.textField] != nil) == utf8 && (parked[ParkedPayload.base64Field] != nil) == !utf8)
    }

    @Test func timestampsTheOriginalHadAreKept() throws {
        let bytes = Array(#"{"args":[],"created_at":1700000000.25,"enqueued_at":1700000001.5}"#.utf8)
        let parked = ParkedPayload.park(bytes, reason: .missingClass, origin: .set("schedule"), now: 1_800_000_000)
        #expect(parked.createdAt == 1_700_000_000.25 && parked.enqueuedAt == 1_700_000_001.5)
        #expect(parked.queue == "default" && parked.errorMessage?.contains("found in the schedule set") == true)
    }

    let keys = KeySpace(namespace: "ns")
    var recorder: FailureRecorder {
        FailureRecorder(keys: keys, policy: RetryPolicy(), retrySchedules: RetrySchedules(), queue: "mail",
                        inProgress: keys.inProgress(queue: "mail", node: "n"))
    }

    /// The move is the one fail-job script: LREM of the exact bytes and ZADD of the parked job, whatever the
    /// payload's `retry` says.
    @Test func theRecorderMovesAnInvalidPayloadToDeadAsAParkedJobInOneScript() throws {
        let bytes = Array(#"{"class":"HardJob","args":"oops","retry":false}"#.utf8)
        let failure = JobFailure(errorClass: "Verk.InvalidPayload", message: "cannot run job: …")
        let (call, destination) = recorder.scriptCall(payload: bytes, failure: failure, now: 1_800_000_000)
        #expect(destination == .dead)
        #expect(call.script.name == Scripts.failJob.name && call.keys == [keys.inProgress(queue: "mail", node: "n"), keys.dead])
        #expect(call.args[0] == bytes, "the exact in-progress bytes leave the list")
        let parked = try Job(parsing: call.args[1])
        #expect(parked.className == "HardJob" && parked.errorClass == "Verk.InvalidPayload" && ParkedPayload.original(of: parked) == bytes)
        #expect(String(decoding: call.args[3], as: UTF8.self) == "dead")
    }

    /// A parked job put back in a queue ("Retry now" in the Web UI) is refused by its worker process and
    /// goes back to dead as it was, never round the retries.
    @Test func aParkedJobThatComesBackIsRefusedAndReturnsToDeadUnchanged() throws {
        let parked = ParkedPayload.park(Array("{not json".utf8), reason: .argsNotAnArray, origin: .queue("mail"), now: 1).encoded()
        let runner = JobRunner(registry: try WorkerRegistry([]), queue: "mail", enqueuer: RecordingEnqueuer())
        guard case .failed(let failure) = runner.run(parked) else { Issue.record("a parked job ran"); return }
        #expect(failure.errorClass == "Verk.InvalidPayload" && failure.message.contains(ParkedPayload.textField))
        let (call, destination) = recorder.scriptCall(payload: parked, failure: failure, now: 2)
        #expect(destination == .dead && call.args[1] == parked)
    }
}
