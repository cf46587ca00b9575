/// Runs around every push, like Sidekiq's client middleware: it may change the job (add a field, a tag),
/// refuse it by throwing, or skip it by returning false. `at` is the scheduled time, nil for "now".
public protocol ClientMiddleware: Sendable {
    func willPush(_ job: inout Job, at: Double?) throws -> Bool
}

/// Applies a middleware chain in order; a job any middleware skips is not pushed.
public struct ClientMiddlewareChain: Sendable {
    public var middlewares: [any ClientMiddleware]

    public init(_ middlewares: [any ClientMiddleware] = []) { self.middlewares = middlewares }

    public func apply(_ job: inout Job, at: Double?) throws -> Bool {
        for m in middlewares where try !m.willPush(&job, at: at) { return false }
        return true
    }
}
