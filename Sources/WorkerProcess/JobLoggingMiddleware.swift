import Dispatch
import Logging
import VerkShared

/// Verk's per-job log line, on by default (`job_log_level`, default `info`): one line when a job finishes,
/// "job done" or "job failed", with `jid`, `class`, `queue` and `duration_ms` as metadata, and `error_class`
/// for a failure. It runs outermost, so the time includes the app's middleware and a failure is logged
/// with the class the job will be recorded with. A job an inner middleware skipped logs as done, as in
/// Sidekiq.
public struct JobLoggingMiddleware: ServerMiddleware {
    public let level: Logger.Level

    public init(level: Logger.Level = .info) { self.level = level }

    /// The level a `job_log_level` setting names (one of `VerkConfiguration.jobLogLevels`): a swift-log
    /// level, or nil for `off` (no per-job line).
    public static func level(setting: String) throws(ConfigurationError) -> Logger.Level? {
        let name = setting.lowercased()
        guard VerkConfiguration.jobLogLevels.contains(name) else {
            throw .invalid(field: "job_log_level", value: setting,
                           reason: "use " + VerkConfiguration.jobLogLevels.joined(separator: ", "))
        }
        return Logger.Level(rawValue: name)  // nil for "off"
    }

    public func call(_ job: Job, context: JobContext, next: (Job) throws -> Void) throws {
        let start = DispatchTime.now().uptimeNanoseconds
        do {
            try next(job)
        } catch {
            log(context, start: start, errorClass: JobFailure.errorClass(of: error))
            throw error
        }
        log(context, start: start, errorClass: nil)
    }

    private func log(_ context: JobContext, start: UInt64, errorClass: String?) {
        let micros = (DispatchTime.now().uptimeNanoseconds - start) / 1000
        // Metadata per call rather than on a copied logger: setting a handler's metadata re-renders it, and
        // this runs for every job; `log` builds the metadata only when the level is enabled.
        context.baseLogger.log(level: level, errorClass == nil ? "job done" : "job failed", metadata: {
            var metadata: Logger.Metadata = [
                "jid": "\(context.jid)", "class": "\(context.className)", "queue": "\(context.queue)",
                "duration_ms": "\(Double(micros) / 1000)",
            ]
            if let errorClass { metadata["error_class"] = "\(errorClass)" }
            return metadata
        }())
    }
}
