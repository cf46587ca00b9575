import Logging
import VerkShared

/// The jobs one queue holds on this node between fetch and settlement: in flight in its worker process
/// (`InFlightJobs`) and owed to Redis (`SettlementBatch`). It turns the worker process's frames into
/// moves, and reports what Redis recorded as logs and events; every job that ends is counted in its
/// `QueueMetrics` where its stats are. Confined to the queue manager's thread.
struct JobLedger {
    let queue: String
    let events: EventBus
    let logger: Logger
    let maxJobSize: Int
    private(set) var inFlight = InFlightJobs()
    var batch = SettlementBatch()
    var metrics: QueueMetrics

    init(queue: String, maxJobSize: Int, events: EventBus, logger: Logger) {
        self.queue = queue
        self.maxJobSize = maxJobSize
        self.events = events
        self.logger = logger
        metrics = QueueMetrics(queue: queue)
    }

    /// The frame that sends a fetched job to the worker process, or nil when it can never run there: a
    /// payload no frame can carry would be rejected by the child and requeued forever, so it goes to the
    /// dead set with the reason.
    mutating func send(_ payload: [UInt8]) -> Frame? {
        guard payload.count <= maxJobSize else {
            batch.fail(payload, JobFailure(
                errorClass: VerkErrorClass.payloadTooLarge.rawValue,
                message: "job payload of \(payload.count) bytes exceeds max_job_size (\(maxJobSize) bytes); pass a reference (a key, a URL) instead of the data",
                retryable: false))
            metrics.jobEnded(payload, failed: true)
            return nil
        }
        return .run(seq: inFlight.add(payload), payload: payload)
    }

    /// Applies a job frame from the worker process. True when what runs changed (for the Busy page).
    mutating func record(_ frame: Frame, now: Double = Timestamp.now()) -> Bool {
        switch frame {
        case .started(let seq, let timeout):
            inFlight.markStarted(seq, at: now, timeout: timeout)
            if events.isObserved, let entry = inFlight.entries[seq] { events.emit(.jobStarted(info(entry.payload))) }
            return true
        case .done(let seq, let micros):
            guard let entry = inFlight.remove(seq) else { return false }
            batch.ack(entry.payload, micros: micros)
            metrics.jobEnded(entry.payload, failed: false, micros: micros)
            if events.isObserved { events.emit(.jobFinished(info(entry.payload), duration: Double(micros) / 1_000_000)) }
            return true
        case .failed(let seq, let micros, let errorClass, let message, let backtrace):
            guard let entry = inFlight.remove(seq) else { return false }
            batch.fail(entry.payload, JobFailure(errorClass: errorClass, message: message, backtrace: backtrace))
            metrics.jobEnded(entry.payload, failed: true, micros: micros)
            return true
        case .released(let seq):
            guard let entry = inFlight.remove(seq) else { return false }
            batch.requeue([entry.payload])
        case .enqueue(let request, let at, let payload):
            batch.enqueue(request: request, at: at, payload: payload)
        case .hello, .run, .enqueueResult, .drain:
            logger.error("unexpected frame from worker process", metadata: ["kind": "\(frame.kind)"])
        }
        return false
    }

    /// Running jobs whose hard timeout has expired.
    func overdue(at now: Double) -> Set<UInt64> {
        inFlight.nextDeadline.map { $0 <= now } == true ? Set(inFlight.overdue(at: now)) : []
    }

    var runningCount: Int { inFlight.entries.values.filter { $0.startedAt != nil }.count }

    /// The worker process ended: its jobs are settled by `LostJobs` into the batch.
    mutating func processEnded(_ loss: ChildSupervisor.Loss, timedOut: Set<UInt64>, quarantine: Bool) -> (settlement: LostJobs.Settlement, running: Int) {
        // A job a thread had taken counts as running even if its `started` frame never arrived.
        // Its JobStarted event is announced now, before the crash's.
        for seq in loss.runningAtExit where inFlight.entries[seq].map({ $0.startedAt == nil }) == true {
            _ = record(.started(seq: seq, timeout: 0))
        }
        let taken = inFlight.takeAll()
        let settlement = LostJobs.settle(running: taken.running, notStarted: taken.notStarted, loss: loss, timedOut: timedOut,
                                         queue: queue, quarantine: quarantine)
        batch.requeue(settlement.requeue)
        batch.quarantine(settlement.suspects)
        for f in settlement.failures {
            batch.fail(f.payload, f.failure)
            metrics.jobEnded(f.payload, failed: true)
        }
        return (settlement, taken.running.count)
    }

    /// Logs and announces what a round trip recorded.
    func report(_ settled: SettlementBatch.Settled, now: Double = Timestamp.now()) {
        for f in settled.recordedFailures {
            let next: String
            switch f.destination {
            case .retry(let at): next = "retry in \(Int((at - now).rounded()))s"
            case .dead: next = "dead"
            case .discard: next = "discarded (retry: false)"
            }
            logger.warning("job failed", metadata: ["error_class": "\(f.failure.errorClass)", "error": "\(f.failure.message)", "next": "\(next)"])
            events.emit(.jobFailed(info(f.payload), errorClass: f.failure.errorClass, message: f.failure.message,
                                   outcome: JobFailureOutcome(f.destination)))
        }
        for message in settled.refused { logger.error("Redis refused a command", metadata: ["error": "\(message)"]) }
    }

    private func info(_ payload: [UInt8]) -> JobEventInfo { JobEventInfo(queue: queue, payload: payload) }
}
