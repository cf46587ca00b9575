import VerkShared

/// What becomes of the jobs a worker process had when it ended. Pure policy:
/// - it was drained and exited cleanly with nothing running: nothing to do;
/// - the supervisor stopped it (drain deadline passed): every job goes back to its queue, uncharged;
/// - otherwise it crashed: jobs it had not started go back untouched, jobs it was running fail — as
///   `Verk.Timeout` for the ones past their hard timeout, `Verk.ProcessCrashed` for the rest.
enum LostJobs {
    struct Settlement {
        var requeue: [[UInt8]] = []
        var failures: [(payload: [UInt8], failure: JobFailure)] = []
    }

    static func settle(
        running: [(seq: UInt64, entry: InFlightJobs.Entry)], notStarted: [[UInt8]], loss: ChildSupervisor.Loss,
        timedOut: Set<UInt64>, queue: String
    ) -> Settlement {
        var result = Settlement(requeue: notStarted)
        if loss.wasStopped {
            result.requeue += running.map(\.entry.payload)
            return result
        }
        let what = loss.reason ?? loss.status.description
        let message = "worker process for queue '\(queue)' (pid \(loss.pid)) \(what) while running this job"
        for (seq, entry) in running {
            if timedOut.contains(seq) {
                result.failures.append((entry.payload, JobFailure(errorClass: VerkErrorClass.timeout.rawValue, message:
                    "job exceeded its \(entry.timeout) s timeout; its worker process (pid \(loss.pid)) was stopped")))
            } else {
                result.failures.append((entry.payload, JobFailure(errorClass: VerkErrorClass.processCrashed.rawValue, message: message)))
            }
        }
        return result
    }
}
