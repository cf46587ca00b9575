/// Every `error_class` Verk itself writes on a failed job, in one place: Sidekiq's Web UI and API show
/// them, and users match on them, so each is spelled once.
public enum VerkErrorClass: String, Sendable, CaseIterable {
    /// The payload is not a Sidekiq job (not JSON or not UTF-8, not an object, no `class`, `args` not an array,
    /// or a scheduled job whose `queue` names no queue): parked in dead as a job holding it (`ParkedPayload`).
    case invalidPayload = "Verk.InvalidPayload"
    /// No worker is registered for the job's `class`.
    case unknownWorker = "Verk.UnknownWorker"
    /// The job's `args` do not decode as the worker's `Arguments`.
    case invalidArguments = "Verk.InvalidArguments"
    /// The worker process died (signal, exit, OOM) while the job was running.
    case processCrashed = "Verk.ProcessCrashed"
    /// The job ran past its hard timeout and its worker process was stopped.
    case timeout = "Verk.Timeout"
    /// The payload is larger than `max_job_size`: it can never be sent to a worker process.
    case payloadTooLarge = "Verk.PayloadTooLarge"
    /// A server middleware failed the job without running it.
    case middlewareRejected = "Verk.MiddlewareRejected"
}
