import VerkShared

/// Everything a queue manager owes Redis since its last round trip — acks, failures, requeues, enqueues
/// from running jobs, stats — and the next fetch, as one pipeline. `plan` builds the pipeline and records
/// which replies belong to what by named ranges; `settle` reads the replies back through those ranges.
/// Pure: unit-tested without Redis. Nothing is dropped on a failed round trip: the batch keeps its
/// contents (acks, failures and requeues are idempotent moves) and the next plan sends them again.
struct SettlementBatch {
    struct Failure {
        let payload: [UInt8]
        let failure: JobFailure
    }

    struct Enqueue {
        let request: UInt64
        /// Epoch seconds, 0 for now.
        let at: Double
        let payload: [UInt8]
    }

    private(set) var acks: [[UInt8]] = []
    private(set) var failures: [Failure] = []
    private(set) var requeues: [[UInt8]] = []
    /// Suspects of a crash, to move into quarantine (payloads as the in-progress list holds them).
    private(set) var suspects: [[UInt8]] = []
    private(set) var enqueues: [Enqueue] = []
    private(set) var stats = StatsBuffer()

    mutating func ack(_ payload: [UInt8], micros: UInt64 = 0) {
        acks.append(payload)
        stats.record(failed: false, payload: payload, micros: micros)
    }

    mutating func fail(_ payload: [UInt8], _ failure: JobFailure, micros: UInt64 = 0) {
        failures.append(Failure(payload: payload, failure: failure))
        stats.record(failed: true, payload: payload, micros: micros)
    }

    mutating func requeue(_ payloads: [[UInt8]]) { requeues += payloads }

    mutating func quarantine(_ payloads: [[UInt8]]) { suspects += payloads }

    mutating func enqueue(request: UInt64, at: Double, payload: [UInt8]) {
        enqueues.append(Enqueue(request: request, at: at, payload: payload))
    }

    /// Something other than stats waits to be written.
    var hasMoves: Bool { !acks.isEmpty || !failures.isEmpty || !requeues.isEmpty || !enqueues.isEmpty || !suspects.isEmpty }
    var isEmpty: Bool { !hasMoves && stats.isEmpty }

    /// Payloads this batch will still move out of the in-progress list (for reconciliation).
    var pendingPayloads: [[UInt8]] { acks + requeues + suspects + failures.map(\.payload) }

    private static let lrem = Array("LREM".utf8)
    private static let fromTail = Array("-1".utf8)

    /// Where each part of the batch sits in the pipeline.
    struct Layout {
        var acks: Range<Int> = 0..<0
        var failures: Range<Int> = 0..<0
        /// Where each failed job goes, in `failures` order.
        var failureDestinations: [RetryPolicy.Destination] = []
        var requeue: Range<Int> = 0..<0
        var quarantine: Range<Int> = 0..<0
        var enqueues: [(request: UInt64, replies: Range<Int>)] = []
        /// Enqueues refused before Redis (not a Sidekiq payload), with the reason.
        var refusedEnqueues: [(request: UInt64, reason: String)] = []
        var stats: Range<Int> = 0..<0
        var fetch: Range<Int> = 0..<0
    }

    struct Plan {
        var items: [PipelineItem] = []
        var layout = Layout()
    }

    /// Where the batch's moves go: this queue's keys, the list its jobs come from (requeues go back to its
    /// pop end), its in-progress list, where suspects go, and how failures are recorded.
    struct Target {
        let keys: KeySpace
        let queue: String
        let source: String
        let inProgress: String
        /// Nil where every crash has a known culprit (a quarantine process runs one job at a time).
        let quarantine: String?
        let recorder: FailureRecorder
    }

    /// The pipeline: acks, failures, requeues, enqueues, stats (when `flushStats`), then `fetch`. Each ack
    /// is its own `LREM … -1` (from the tail, where the oldest, and usually finished, jobs are): a Lua loop
    /// of them cost Redis more CPU per job than the commands (measured: 2.5 µs against 1.5 µs).
    func plan(to target: Target, fetch: [PipelineItem], flushStats: Bool, now: Double) -> Plan {
        var plan = Plan()
        func append(_ items: [PipelineItem]) -> Range<Int> {
            let start = plan.items.count
            plan.items += items
            return start..<plan.items.count
        }
        let inProgress = Array(target.inProgress.utf8)
        plan.layout.acks = append(acks.map { .command(RedisCommand(arguments: [Self.lrem, inProgress, Self.fromTail, $0])) })
        var failureItems: [PipelineItem] = []
        for f in failures {
            let (call, destination) = target.recorder.scriptCall(payload: f.payload, failure: f.failure, now: now)
            failureItems.append(.script(call))
            plan.layout.failureDestinations.append(destination)
        }
        plan.layout.failures = append(failureItems)
        if !requeues.isEmpty {
            plan.layout.requeue = append([.script(ScriptCall(
                Scripts.requeueJobs, keys: [target.inProgress, target.source, target.keys.queues],
                args: [target.queue] + requeues))])
        }
        if !suspects.isEmpty, let quarantine = target.quarantine {
            var args: [any RedisArgument] = []
            for payload in suspects { args += [payload, Self.markedSuspect(payload)] }
            plan.layout.quarantine = append([.script(ScriptCall(Scripts.quarantineJobs, keys: [target.inProgress, quarantine], args: args))])
        }
        let push = JobPush(keys: target.keys, timestamps: target.recorder.policy.timestamps)
        for e in enqueues {
            // Prepared (normalised, client middleware run) in the worker process: only checked and pushed here.
            let job: Job
            do {
                job = try Job(parsing: e.payload)
                _ = try job.pushQueue()
            } catch {
                plan.layout.refusedEnqueues.append((e.request, "the job is not a valid Sidekiq payload: \(error)"))
                continue
            }
            let commands = push.commands(for: [(job, e.at > 0 ? e.at : nil)], now: now)
            plan.layout.enqueues.append((e.request, append(commands.map(PipelineItem.command))))
        }
        if flushStats && !stats.isEmpty {
            plan.layout.stats = append(stats.commands(keys: target.keys, queue: target.queue, now: now).map(PipelineItem.command))
        }
        plan.layout.fetch = append(fetch)
        return plan
    }

    /// What the replies said.
    struct Settled {
        /// Failures Redis recorded, with where they went (for logs and events).
        var recordedFailures: [(payload: [UInt8], failure: JobFailure, destination: RetryPolicy.Destination)] = []
        /// Each enqueue request's answer: nil error when stored.
        var enqueueResults: [(request: UInt64, error: String?)] = []
        /// The fetch's replies (the `FetchStrategy` reads its jobs from them).
        var fetchReplies: ArraySlice<RedisReply> = []
        /// Error replies to moves (not fetches), for the log.
        var refused: [String] = []
        /// Suspects moved into quarantine.
        var quarantined = 0
        /// Moves refused for a while (see `isTransient`), kept for the next round trip.
        var kept = 0
    }

    /// Errors Redis gives while it cannot write for now: loading its data after a restart, a replica during
    /// a failover, a failed save, out of memory, a script running. A move refused so stays in the batch, as
    /// after a lost connection (the moves are idempotent): dropped, an ack left a finished job in progress
    /// to run again, and a requeue or failure left a job there until the node restarted.
    static func isTransient(_ message: String) -> Bool {
        ["LOADING", "READONLY", "MASTERDOWN", "MISCONF", "OOM", "BUSY", "TRYAGAIN"].contains { message.hasPrefix($0) }
    }

    /// The field that marks a job as a suspect of a worker-process crash (Sidekiq ignores it).
    static let suspectField = "verk_suspect"

    /// A suspect's payload with the mark; a payload that is not a job keeps its bytes.
    static func markedSuspect(_ payload: [UInt8]) -> [UInt8] {
        guard var job = try? Job(parsing: payload) else { return payload }
        job[suspectField] = .bool(true)
        return job.encoded()
    }

    /// Applies a plan's replies: what was sent leaves the batch (what was added since stays), but for moves
    /// refused for a while (`isTransient`).
    mutating func settle(_ plan: Plan, replies: [RedisReply]) -> Settled {
        let layout = plan.layout
        var settled = Settled()
        for (i, reply) in replies[layout.failures].enumerated() where reply.errorMessage == nil {
            settled.recordedFailures.append((failures[i].payload, failures[i].failure, layout.failureDestinations[i]))
        }
        for (request, range) in layout.enqueues {
            settled.enqueueResults.append((request, replies[range].compactMap(\.errorMessage).first))
        }
        settled.enqueueResults += layout.refusedEnqueues.map { ($0.request, $0.reason) }
        settled.refused = replies[..<layout.fetch.lowerBound].compactMap(\.errorMessage)
        settled.fetchReplies = replies[layout.fetch]
        func refused(_ i: Int) -> Bool { replies[i].errorMessage.map(Self.isTransient) ?? false }
        let keptAcks = (0..<layout.acks.count).filter { refused(layout.acks.lowerBound + $0) }.map { acks[$0] }
        let keptFailures = (0..<layout.failures.count).filter { refused(layout.failures.lowerBound + $0) }.map { failures[$0] }
        acks.replaceSubrange(0..<layout.acks.count, with: keptAcks)
        failures.replaceSubrange(0..<layout.failures.count, with: keptFailures)
        settled.kept = keptAcks.count + keptFailures.count
        if !layout.requeue.isEmpty {
            if refused(layout.requeue.lowerBound) { settled.kept += requeues.count } else { requeues.removeAll(keepingCapacity: true) }
        }
        if !layout.quarantine.isEmpty {
            if refused(layout.quarantine.lowerBound) { settled.kept += suspects.count } else {
                settled.quarantined = replies[layout.quarantine.lowerBound].int ?? 0
                suspects.removeAll()
            }
        }
        enqueues.removeFirst(layout.enqueues.count + layout.refusedEnqueues.count)
        if !layout.stats.isEmpty { stats = StatsBuffer() }
        return settled
    }
}
