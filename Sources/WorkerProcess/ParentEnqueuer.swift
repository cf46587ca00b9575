import FoundationEssentials
import VerkShared

/// A running job's enqueue, sent to the parent (children never talk to Redis); the job's thread waits
/// for the parent's answer. `@unchecked Sendable`: `waiting` and `nextRequest` are only touched under `condition`.
final class ParentEnqueuer: JobEnqueuer, @unchecked Sendable {
    private let outbox: Outbox
    private let condition = ThreadCondition()
    private var nextRequest: UInt64 = 1
    private var waiting: [UInt64: String?] = [:]
    private var closed = false
    private let timeout: Double

    init(outbox: Outbox, timeout: Double = 60) {
        self.outbox = outbox
        self.timeout = timeout
    }

    func enqueue(_ job: Job, at: Double?) throws -> String {
        condition.lock()
        let request = nextRequest
        nextRequest += 1
        condition.unlock()
        outbox.send(.enqueue(request: request, at: at ?? 0, payload: job.encoded()))
        let deadline = Date().addingTimeInterval(timeout)
        condition.lock()
        defer { condition.unlock() }
        while true {
            if let result = waiting.removeValue(forKey: request) {
                if let error = result { throw EnqueueThroughParentError.refused(error) }
                return job.jid ?? ""
            }
            if closed { throw EnqueueThroughParentError.parentGone }
            guard condition.wait(until: deadline) else { throw EnqueueThroughParentError.timeout(timeout) }
        }
    }

    func complete(request: UInt64, error: String?) {
        condition.lock()
        waiting[request] = .some(error)
        condition.broadcast()
        condition.unlock()
    }
}

public enum EnqueueThroughParentError: Error, CustomStringConvertible {
    case refused(String)
    case parentGone
    case timeout(Double)

    public var description: String {
        switch self {
        case .refused(let reason): return "the supervisor could not enqueue the job: \(reason)"
        case .parentGone: return "the supervisor is gone; the job was not enqueued"
        case .timeout(let s): return "the supervisor did not confirm the enqueue within \(Int(s)) s"
        }
    }
}
