import VerkShared

/// What happens on a node, as Verk's events (JobStarted, JobFinished, JobFailed, QueueRunning,
/// QueuePausing, QueuePaused) plus the process-level ones only crash isolation has. Delivered by
/// `Supervisor.events` and to handlers registered with `Supervisor.onEvent`, in order per queue.
public enum VerkEvent: Sendable, Equatable {
    /// A worker process took the job and runs it now.
    case jobStarted(JobEventInfo)
    /// The job finished; `duration` in seconds as measured in the worker process.
    case jobFinished(JobEventInfo, duration: Double)
    /// The job failed and was recorded in Redis: retried, dead or discarded.
    case jobFailed(JobEventInfo, errorClass: String, message: String, outcome: JobFailureOutcome)
    /// The queue fetches and runs jobs (started, resumed, or its worker process is ready again).
    case queueRunning(queue: String)
    /// The queue was paused: no new fetches; `running` jobs are still finishing.
    case queuePausing(queue: String, running: Int)
    /// The queue is paused and nothing runs.
    case queuePaused(queue: String)
    /// The queue's worker process died without being asked to. `signal` is nil for an exit.
    case processCrashed(queue: String, pid: Int32, signal: Int32?, exitCode: Int32?, jobsAffected: Int)
    /// A replacement worker process is ready, `timeToReady` seconds after its predecessor died.
    case processRestarted(queue: String, pid: Int32, timeToReady: Double)
    /// The worker process keeps dying (over the restart intensity): retried slowly.
    case queueFailing(queue: String, restarts: Int)
    /// The queue was added to this node at runtime.
    case queueAdded(queue: String, concurrency: Int)
    /// The queue was removed from this node at runtime and has drained.
    case queueRemoved(queue: String)
    /// This node took over a dead node: `jobs` in-progress jobs went back to their queues.
    case nodeTakenOver(node: String, jobs: Int)
}

/// Where a failed job went.
public enum JobFailureOutcome: Sendable, Equatable {
    case retry(at: Double)
    case dead
    /// `retry: false`: dropped, as Sidekiq drops it.
    case discarded
}

/// The job an event is about. The payload is kept as Redis holds it; `job` parses it when asked, on the
/// consumer's side, so emitting an event costs the queue loop no JSON work.
public struct JobEventInfo: Sendable, Equatable {
    public let queue: String
    public let payload: [UInt8]

    public init(queue: String, payload: [UInt8]) {
        self.queue = queue
        self.payload = payload
    }

    /// The parsed job (nil if the payload is not a Sidekiq job).
    public var job: Job? { try? Job(parsing: payload) }
    public var jid: String? { job?.jid }
    public var className: String? { job?.className }
}

extension JobFailureOutcome {
    init(_ destination: RetryPolicy.Destination) {
        switch destination {
        case .retry(let at): self = .retry(at: at)
        case .dead: self = .dead
        case .discard: self = .discarded
        }
    }
}

extension VerkEvent: CustomStringConvertible {
    /// One line, Verk's event name first, then `key=value` pairs: for logs and for tests reading a node's output.
    public var description: String {
        func job(_ info: JobEventInfo) -> String { "queue=\(info.queue) jid=\(info.jid ?? "-") class=\(info.className ?? "-")" }
        switch self {
        case .jobStarted(let info): return "JobStarted \(job(info))"
        case .jobFinished(let info, let duration): return "JobFinished \(job(info)) duration_ms=\(Int((duration * 1000).rounded()))"
        case .jobFailed(let info, let errorClass, _, let outcome):
            let next: String
            switch outcome {
            case .retry: next = "retry"
            case .dead: next = "dead"
            case .discarded: next = "discarded"
            }
            return "JobFailed \(job(info)) error_class=\(errorClass) outcome=\(next)"
        case .queueRunning(let queue): return "QueueRunning queue=\(queue)"
        case .queuePausing(let queue, let running): return "QueuePausing queue=\(queue) running=\(running)"
        case .queuePaused(let queue): return "QueuePaused queue=\(queue)"
        case .processCrashed(let queue, let pid, let signal, let code, let jobs):
            return "ProcessCrashed queue=\(queue) pid=\(pid) signal=\(signal.map(String.init) ?? "-") exit=\(code.map(String.init) ?? "-") jobs=\(jobs)"
        case .processRestarted(let queue, let pid, let time):
            return "ProcessRestarted queue=\(queue) pid=\(pid) time_to_ready_ms=\(TextFormat.fixed(time * 1000, decimals: 1))"
        case .queueFailing(let queue, let restarts): return "QueueFailing queue=\(queue) restarts=\(restarts)"
        case .queueAdded(let queue, let concurrency): return "QueueAdded queue=\(queue) concurrency=\(concurrency)"
        case .queueRemoved(let queue): return "QueueRemoved queue=\(queue)"
        case .nodeTakenOver(let node, let jobs): return "NodeTakenOver node=\(node) jobs=\(jobs)"
        }
    }
}
