import VerkShared

/// What becomes of the jobs a worker process had when it ended. Pure policy:
/// - it was drained and exited cleanly with nothing running: nothing to do;
/// - the supervisor stopped it (drain deadline passed): every job goes back to its queue, uncharged;
/// - otherwise it crashed. Jobs it had not started go back untouched. Of the jobs it was running, the
///   **culprit** is charged — `Verk.Timeout` for a job past its hard timeout, `Verk.ProcessCrashed` for the
///   only job running, or for the one job a quarantine process runs — and when the culprit is not known
///   (several jobs running, none past its timeout) they are all **suspects**: not charged, re-run one at a
///   time in quarantine, where the one that crashes again is the culprit. Beside a timed-out job, the
///   others are suspects too.
enum LostJobs {
    struct Settlement {
        var requeue: [[UInt8]] = []
        var failures: [(payload: [UInt8], failure: JobFailure)] = []
        var suspects: [[UInt8]] = []
    }

    static func settle(
        running: [(seq: UInt64, entry: InFlightJobs.Entry)], notStarted: [[UInt8]], loss: ChildSupervisor.Loss,
        timedOut: Set<UInt64>, queue: String, quarantine: Bool = false
    ) -> Settlement {
        var result = Settlement(requeue: notStarted)
        if loss.wasStopped {
            result.requeue += running.map(\.entry.payload)
            return result
        }
        let what = loss.reason ?? loss.status.description
        let culpritKnown = quarantine || running.count == 1 || !timedOut.isEmpty
        for (seq, entry) in running {
            if timedOut.contains(seq) {
                result.failures.append((entry.payload, JobFailure(errorClass: VerkErrorClass.timeout.rawValue, message:
                    "job exceeded its \(entry.timeout) s timeout; its worker process (pid \(loss.pid)) was stopped")))
            } else if culpritKnown && timedOut.isEmpty {
                let alone = quarantine ? "running alone in quarantine" : "running alone"
                result.failures.append((entry.payload, JobFailure(errorClass: VerkErrorClass.processCrashed.rawValue, message:
                    "worker process for queue '\(queue)' (pid \(loss.pid)) \(what) while running this job (\(alone))")))
            } else {
                result.suspects.append(entry.payload)
            }
        }
        return result
    }
}
