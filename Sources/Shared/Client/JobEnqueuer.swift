/// Anything that enqueues jobs: `VerkClient` (straight to Redis), a running job's context (through its
/// supervisor), and the test modes of `VerkTesting`. Write application code against it to swap them.
/// `at` is epoch seconds or nil for now; the call returns the jid once the job is stored.
public protocol JobEnqueuer: Sendable {
    func enqueue(_ job: Job, at: Double?) throws -> String
}
