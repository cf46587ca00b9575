import VerkShared

/// Jobs sent to a queue's worker process and not yet answered, by sequence number. The table is how the
/// supervisor knows what a dead child took down: jobs it had started go through the failure path, jobs
/// it had only been sent go back to the queue untouched.
struct InFlightJobs {
    struct Entry {
        let payload: [UInt8]
        var startedAt: Double?
        /// When a hard timeout expires (nil: none).
        var deadline: Double?
        var timeout: Double = 0
    }

    private(set) var entries: [UInt64: Entry] = [:]
    private var nextSeq: UInt64 = 1
    /// How many entries have a deadline: most jobs have none, so the deadline scans are skipped.
    private var withDeadline = 0

    var count: Int { entries.count }
    var isEmpty: Bool { entries.isEmpty }

    mutating func add(_ payload: [UInt8]) -> UInt64 {
        let seq = nextSeq
        nextSeq += 1
        entries[seq] = Entry(payload: payload)
        return seq
    }

    mutating func markStarted(_ seq: UInt64, at time: Double, timeout: Double) {
        entries[seq]?.startedAt = time
        if timeout > 0, entries[seq] != nil {
            if entries[seq]?.deadline == nil { withDeadline += 1 }
            entries[seq]?.deadline = time + timeout
            entries[seq]?.timeout = timeout
        }
    }

    /// The earliest hard-timeout deadline of a running job.
    var nextDeadline: Double? { withDeadline == 0 ? nil : entries.values.compactMap(\.deadline).min() }

    /// Running jobs whose hard timeout has expired.
    func overdue(at now: Double) -> [UInt64] { entries.filter { ($0.value.deadline ?? .infinity) <= now }.map(\.key) }

    mutating func remove(_ seq: UInt64) -> Entry? {
        let entry = entries.removeValue(forKey: seq)
        if entry?.deadline != nil { withDeadline -= 1 }
        return entry
    }

    /// Empties the table, split into jobs that were running and jobs never started.
    mutating func takeAll() -> (running: [(seq: UInt64, entry: Entry)], notStarted: [[UInt8]]) {
        var running: [(UInt64, Entry)] = [], notStarted: [[UInt8]] = []
        for (seq, e) in entries.sorted(by: { $0.key < $1.key }) {
            if e.startedAt != nil { running.append((seq, e)) } else { notStarted.append(e.payload) }
        }
        entries.removeAll()
        withDeadline = 0
        return (running, notStarted)
    }
}
