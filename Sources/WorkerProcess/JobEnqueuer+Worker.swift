import VerkShared

extension Job {
    /// A job for a registered worker type, with that worker's queue, retry and backtrace options.
    public init<W: Worker>(_ worker: W.Type, _ args: W.Arguments) throws where W.Arguments: Encodable {
        self.init(className: W.className, args: try WorkerArguments.encode(args), queue: W.options.queue, retry: W.options.retry)
        if let lines = W.options.backtrace { self["backtrace"] = .int(lines) }
    }
}

extension JobEnqueuer {
    /// Enqueues a job of a registered worker type with its typed arguments (its queue and retry setting
    /// come from the worker's options), now or at `at`; returns its jid. The same call works on a
    /// `VerkClient`, a running job's `JobContext` and the test modes of `VerkTesting`.
    @discardableResult
    public func enqueue<W: Worker>(_ worker: W.Type, _ args: W.Arguments, at: Double? = nil) throws -> String where W.Arguments: Encodable {
        try enqueue(Job(worker, args), at: at)
    }
}
