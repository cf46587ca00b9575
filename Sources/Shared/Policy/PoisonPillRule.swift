/// Sidekiq Pro's poison-pill rule: a job that has killed its worker process `maxKills` times goes to the
/// dead set whatever its `retry` says, so a job that crashes its process cannot keep taking it down. A job
/// kills its process when it is the known culprit of a crash (`Verk.ProcessCrashed`) or of a hard timeout
/// (`Verk.Timeout`); the count lives in the job (`verk_kills`, a field Sidekiq ignores).
package struct PoisonPillRule: Sendable {
    package static let field = "verk_kills"
    package let maxKills: Int

    package init(maxKills: Int) { self.maxKills = maxKills }

    /// Counts the kill on the job when `failure` is one; returns the failure, made final (dead) at the limit.
    package func apply(to job: inout Job, failure: JobFailure) -> JobFailure {
        guard failure.errorClass == VerkErrorClass.processCrashed.rawValue || failure.errorClass == VerkErrorClass.timeout.rawValue else {
            return failure
        }
        let kills = (job[Self.field]?.intValue ?? 0) + 1
        job[Self.field] = .int(kills)
        guard kills >= maxKills else { return failure }
        var final = failure
        final.retryable = false
        final.message += " (it has killed its worker process \(kills) times: dead, whatever its retry setting)"
        return final
    }
}
