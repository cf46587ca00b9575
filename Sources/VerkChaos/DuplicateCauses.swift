/// Why a job was recorded twice. Verk runs a job at least once: a job that finished (and wrote its line)
/// but whose acknowledgement never reached Redis runs again. For each extra run, the cause is the first
/// fault after the earlier run that could have kept its acknowledgement from Redis: one that hit the
/// incarnation that ran it (its worker process or supervisor killed, it cut off, it leaving), a Redis
/// fault, or a poison job crashing that incarnation's worker process (seen in its log).
enum DuplicateCauses {
    enum Cause: Hashable, Comparable {
        case fault(FaultKind, detail: String)
        case poisonCrash
        case unexplained

        var name: String {
            switch self {
            case .fault(let kind, let detail): return detail.isEmpty ? kind.rawValue : "\(kind.rawValue) (\(detail))"
            case .poisonCrash: return "poison-crash"
            case .unexplained: return "unexplained"
            }
        }

        var explanation: String {
            switch self {
            case .fault(.workerKill, _):
                return "a job had finished in the killed worker process but its result had not reached the supervisor: it ran again"
            case .fault(.supervisorKill, _):
                return "a job had finished but its acknowledgement had not reached Redis when the supervisor died: the same id recovered it and ran it again"
            case .fault(.partition, let detail) where detail == DuplicateCauses.returnedDetail:
                return "the cut-off node fetched and ran jobs when the link came back, before its next beat found its lease gone, while a live node took its in-progress list over: both ran them, at the same time"
            case .fault(.partition, _):
                return "jobs finished while the node was cut off could not be acknowledged: the node's in-progress jobs were taken over or recovered and ran again"
            case .fault(.nodeJoinLeave, _):
                return "the leaving node was killed after jobs finished and before their acknowledgement: a live node took its in-progress jobs over"
            case .fault(.redisRestart, _), .fault(.redisStall, _):
                return "nothing else hit the node that ran it first, and Redis was away: an acknowledgement lost with the connection (worth a look)"
            case .poisonCrash:
                return "a job finished in the instant a poison job crashed its worker process, and word of it never left the process: it ran again (README, Crashes)"
            case .unexplained:
                return "no fault between the two runs: a bug"
            }
        }

        static func < (a: Cause, b: Cause) -> Bool { a.name < b.name }
    }

    /// Within a sample of the timeline (50 ms) a run and a fault cannot be ordered: allow that much.
    static let slack = 0.1

    /// One cause per extra run of each duplicated jid; and for each unexplained one, what was seen.
    static func attribute(_ duplicates: [String: [RecordFiles.Run]], faults: [FaultRecord], crashes: [Timeline.Crash],
                          timeline: Timeline, origin: Double) -> (causes: [Cause: Int], unexplained: [String]) {
        var causes: [Cause: Int] = [:]
        var unexplained: [String] = []
        let poison = crashes.filter { $0.signal == "SIGSEGV" }
        for (jid, runs) in duplicates {
            let timed = runs.map { (run: $0, when: timeline.when(offset: $0.offset, incarnation: $0.incarnation)) }
                .sorted { $0.when.before < $1.when.before }
            for (earlier, later) in zip(timed, timed.dropFirst()) {
                let from = earlier.when.after - slack, to = later.when.before + slack
                var best: (at: Double, cause: Cause)?
                func consider(_ at: Double, _ cause: Cause) {
                    if best == nil || at < best!.at { best = (at, cause) }
                }
                // Runs that overlap in time cannot be ordered: either may be the one whose end was lost.
                let hit: Set<String> = earlier.when.before > later.when.after
                    ? [earlier.run.incarnation, later.run.incarnation] : [earlier.run.incarnation]
                // What hit the node that ran it first; a leave by SIGTERM drains (finished jobs are
                // acknowledged), so it is nobody's excuse.
                for fault in faults where fault.end >= from && fault.start <= to && fault.target.map(hit.contains) == true
                    && !(fault.kind == .nodeJoinLeave && !fault.byKill) {
                    let returned = fault.kind == .partition && fault.takenOver && earlier.when.after >= (fault.restoredAt ?? .infinity)
                    consider(max(fault.start, from), .fault(fault.kind, detail: returned ? returnedDetail : detail(fault)))
                }
                for crash in poison where crash.time >= from && crash.time <= to && hit.contains(crash.incarnation) {
                    consider(crash.time, .poisonCrash)
                }
                // Only then Redis's own faults, which hit every node alike and by design lose no acknowledgement
                // (it stays in the batch and is sent again): one charged here is worth a look.
                if best == nil {
                    for fault in faults where fault.end >= from && fault.start <= to && fault.target == nil {
                        consider(max(fault.start, from), .fault(fault.kind, detail: ""))
                    }
                }
                // Nothing hit the node of the earlier run: was the later one run by a node coming back from a
                // partition over its lease? It fetches and runs jobs until its next beat finds the lease
                // gone, while a live node may be taking its in-progress list (those very jobs) over.
                if best == nil {
                    for fault in faults where fault.kind == .partition && fault.takenOver && fault.target == later.run.incarnation
                        && fault.end >= from && fault.start <= to {
                        consider(max(fault.start, from), .fault(.partition, detail: returnedDetail))
                    }
                }
                causes[best?.cause ?? .unexplained, default: 0] += 1
                if best == nil {
                    let seen = timed.map { String(format: "%@ at %.2f–%.2f s (offset %d)", $0.run.incarnation, $0.when.after - origin,
                                                  $0.when.before - origin, $0.run.offset) }
                    let near = crashes.filter { $0.time >= from - 2 && $0.time <= to + 2 }
                        .map { String(format: "%@ %@ at %.2f s", $0.incarnation, $0.signal, $0.time - origin) }
                    let nearFaults = faults.filter { $0.end >= from - 2 && $0.start <= to + 2 }
                        .map { String(format: "%@ of %@ at %.2f–%.2f s", $0.kind.rawValue, $0.target ?? "all", $0.start - origin, $0.end - origin) }
                    unexplained.append("\(jid): \(seen.joined(separator: ", ")); crashes near: \(near.isEmpty ? "none" : near.joined(separator: ", "))"
                        + "; faults near: \(nearFaults.isEmpty ? "none" : nearFaults.joined(separator: ", "))")
                }
            }
        }
        return (causes, unexplained)
    }

    static let returnedDetail = "back from over the lease, it ran jobs a takeover had just requeued"

    private static func detail(_ fault: FaultRecord) -> String {
        switch fault.kind {
        case .partition: return !fault.longerThanLease ? "under the lease" : fault.takenOver ? "over the lease, taken over" : "over the lease, lease retaken"
        case .nodeJoinLeave: return fault.byKill ? "leave by kill -9" : "leave by SIGTERM"
        default: return ""
        }
    }
}
