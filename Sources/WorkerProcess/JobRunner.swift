import Foundation
import VerkShared

/// Runs one job payload: decode, look up the worker, perform, and report done or failed.
struct JobRunner: Sendable {
    let registry: WorkerRegistry
    let queue: String
    let enqueuer: any JobEnqueuer

    enum Result: Sendable, Equatable {
        case done
        case failed(JobFailure)
    }

    /// Runs a payload; `started` is called once, before the job's code, with its hard timeout (0: none).
    func run(_ payload: [UInt8], started: (Double) -> Void = { _ in }) -> Result {
        let job: Job
        do {
            job = try Job(parsing: payload)
        } catch {
            started(0)
            return .failed(JobFailure(errorClass: JobExecutionError.invalidPayload("").errorClass, message: "cannot run job: \(error)"))
        }
        let entry = registry.entry(job.className)
        started(job["timeout"]?.doubleValue ?? entry?.options.timeout ?? 0)
        guard let entry else {
            let e = JobExecutionError.unknownWorker(className: job.className, queue: queue, registered: registry.classNames)
            return .failed(JobFailure(errorClass: e.errorClass, message: e.description))
        }
        do {
            try entry.run(job, JobContext(job: job, queue: queue, enqueuer: enqueuer))
            return .done
        } catch let error as JobExecutionError {
            return .failed(JobFailure(errorClass: error.errorClass, message: error.description))
        } catch {
            return .failed(JobFailure(errorClass: String(reflecting: type(of: error)), message: "\(error)",
                                      backtrace: ["\(entry.className).perform"]))
        }
    }
}
