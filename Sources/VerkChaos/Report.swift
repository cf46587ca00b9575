import Foundation

/// The run's result: one summary line (`jobs N, lost L, unfinished U, duplicated D, faults …, seconds S`:
/// lost means nowhere — never run and in no list or set; unfinished means still waiting in Redis at the
/// deadline, not yet run), then the
/// duplicates by cause, the orphan window, and whatever must fail the run.
struct Report {
    let pushed: JobStream.Pushed
    let accounting: Accounting
    let causes: [DuplicateCauses.Cause: Int]
    let unexplained: [String]
    let faults: [FaultRecord]
    let crashes: [Timeline.Crash]
    let orphanLifetimes: [Double]
    let orphanEnds: [String: Int]
    let failures: [String]
    let unexpectedExits: [String]
    let retriedNow: Int
    let seconds: Double

    var lost: Int { accounting.lost.count + accounting.deadRecords.count + accounting.poisonMissing.count }

    var passed: Bool { lost == 0 && accounting.unfinished.isEmpty && accounting.stranded.isEmpty && failures.isEmpty }

    var faultSummary: String {
        var parts: [String] = []
        for kind in FaultKind.allCases {
            let of = faults.filter { $0.kind == kind }
            var part = "\(kind.rawValue) \(of.count)"
            if kind == .partition {
                part += " (\(of.filter(\.longerThanLease).count) over the lease, \(of.filter(\.takenOver).count) taken over)"
            }
            if kind == .nodeJoinLeave { part += " (\(of.filter(\.byKill).count) by kill -9)" }
            parts.append(part)
        }
        let segv = crashes.filter { $0.signal == "SIGSEGV" }.count
        parts.append("poison \(pushed.poison.count) (\(segv) crashes)")
        return parts.joined(separator: ", ")
    }

    func print(_ say: (String) -> Void) {
        let records = pushed.record.count + accounting.uncertainLanded
        say("")
        say("jobs \(records + pushed.poison.count), lost \(lost), unfinished \(accounting.unfinished.count), duplicated \(accounting.duplicates.count), faults \(faultSummary), "
            + String(format: "seconds %.1f", seconds))
        say("  jobs: \(records) RecordWorker (\(pushed.rubyRecord) by Ruby's Sidekiq::Client, \(records - pushed.rubyRecord) by VerkClient), "
            + "\(pushed.poison.count) poison CrashWorker; \(accounting.runs) runs recorded; \(retriedNow) moved from retry by the driver")
        say("  poison: \(accounting.poisonDead) of \(pushed.poison.count) in the dead set as Verk.ProcessCrashed")
        if !causes.isEmpty {
            say("  duplicated runs by cause:")
            for (cause, count) in causes.sorted(by: { $0.value > $1.value || ($0.value == $1.value && $0.key < $1.key) }) {
                say("    \(cause.name): \(count) — \(cause.explanation)")
            }
            for line in unexplained.prefix(10) { say("      unexplained: \(line)") }
        }
        if let longest = orphanLifetimes.max(), let shortest = orphanLifetimes.min() {
            let kills = faults.filter { $0.kind == .supervisorKill }.count
            let ends = orphanEnds.sorted { $0.key < $1.key }.map { "\($0.value) by \($0.key)" }.joined(separator: ", ")
            say(String(format: "  worker processes after kill -9 of their supervisor: ended %.1f–%.1f ms after it (%d processes, %d kills; %@)",
                       shortest, longest, orphanLifetimes.count, kills, ends))
        }
        if !unexpectedExits.isEmpty {
            say("  nodes that exited unasked (restarted):")
            for exit in unexpectedExits { say("    \(exit)") }
        }
        if !accounting.lost.isEmpty { say("  LOST (never recorded, and in no list or set): \(accounting.lost.prefix(10).joined(separator: " "))") }
        if !accounting.unfinished.isEmpty {
            say("  UNFINISHED (still waiting in Redis at the deadline: not lost, not yet run — the nodes did not keep up): "
                + accounting.unfinished.prefix(10).joined(separator: " "))
        }
        if !accounting.deadRecords.isEmpty { say("  RecordWorker jobs in the dead set: \(accounting.deadRecords.prefix(10).joined(separator: " "))") }
        if !accounting.poisonMissing.isEmpty { say("  poison jobs not in the dead set: \(accounting.poisonMissing.prefix(10).joined(separator: " "))") }
        if accounting.unknownRecorded > 0 { say("  recorded jids no push reported: \(accounting.unknownRecorded)") }
        if !pushed.failedBatches.isEmpty {
            say("  pushes that failed (\(pushed.uncertain.count) of our jids uncertain, \(accounting.uncertainLanded) of them landed):")
            for failure in pushed.failedBatches.prefix(5) { say("    \(failure)") }
        }
        say("  stranded: " + (accounting.stranded.isEmpty ? "none" : accounting.stranded.joined(separator: "; ")))
        for failure in failures { say("  FAILED: \(failure)") }
        say(passed ? "chaos: passed" : "chaos: FAILED")
    }
}
