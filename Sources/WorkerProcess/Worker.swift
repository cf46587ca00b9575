import VerkShared

/// A job type. Conform a type, register it, and jobs whose `class` equals `className` run its `perform`
/// on a pool thread of its queue's worker process. A fresh instance runs each job.
///
/// ```swift
/// struct SendEmail: Worker {
///     struct Arguments: Codable { let to: String }
///     static let options = WorkerOptions(queue: "mail", retry: .limit(5))
///     func perform(_ args: Arguments, context: JobContext) throws { try mailer.send(to: args.to) }
/// }
/// ```
public protocol Worker: Sendable {
    /// Decoded from the job's `args` array: from the whole array, or, when that fails and the array has one
    /// element, from that element (so `perform_async({"to" => …})` from Ruby decodes into a struct).
    /// The default, `[JSONValue]`, hands over the arguments as they are.
    associatedtype Arguments: Decodable = [JSONValue]

    /// The Sidekiq `class` name. Defaults to the type's name.
    static var className: String { get }
    static var options: WorkerOptions { get }
    /// Verk's `retry_at(failed_at, retry_count)`: when to run again after a failure (epoch seconds), or nil
    /// for Sidekiq's exponential backoff. Runs in the supervisor, so it also applies to crashes.
    static func retryAt(failedAt: Double, retryCount: Int) -> Double?

    init()
    /// Runs the job on a dedicated pool thread: blocking is fine. Throwing sends the job to the retry path.
    func perform(_ args: Arguments, context: JobContext) throws
}

extension Worker {
    public static var className: String { String(describing: self) }
    public static var options: WorkerOptions { WorkerOptions() }
    public static func retryAt(failedAt: Double, retryCount: Int) -> Double? { nil }
}

/// Per-worker defaults applied when a job of this worker is enqueued through the typed API.
public struct WorkerOptions: Sendable, Equatable {
    public var queue: String
    public var retry: RetrySetting
    /// Sidekiq's `backtrace` option: lines of the error backtrace to keep (nil: none).
    public var backtrace: Int?
    /// Hard timeout in seconds: a job still running after it has its worker process stopped (threads
    /// cannot be cancelled safely) and fails with `Verk.Timeout`. A job's own `timeout` field overrides it.
    public var timeout: Double?

    public init(queue: String = "default", retry: RetrySetting = .enabled, backtrace: Int? = nil, timeout: Double? = nil) {
        self.queue = queue
        self.retry = retry
        self.backtrace = backtrace
        self.timeout = timeout
    }
}
