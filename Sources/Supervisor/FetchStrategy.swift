import Logging
import VerkShared

/// How a queue manager takes jobs from its queue into this node's in-progress list: the seam where the
/// fetch order plugs in (Sidekiq's swappable fetch class). Every move it makes must be atomic — a job is
/// in the queue or in progress, never only in memory. Confined to the manager's thread, except for what
/// the implementation runs on its own threads behind `wakeFD`.
protocol FetchStrategy: AnyObject {
    /// Commands for the manager's pipeline, each atomically moving at most one job into the in-progress
    /// list; a reply is the job's payload, or nil when there was none.
    func fetchCommands(count: Int) -> [RedisCommand]
    /// The queue looked empty and there is room: wait (in Redis) for the next job and signal `wakeFD`.
    func waitForJob()
    /// No job wanted for now (paused, quiet, draining). A wait under way may still deliver one.
    func stopWaiting()
    /// Readable when a waited-for job arrived; the manager polls it beside its worker process.
    var wakeFD: Int32 { get }
    /// Jobs that arrived since the last call (already in the in-progress list).
    func takeArrived() -> [[UInt8]]
    /// Stops waiting and returns once nothing can touch the in-progress list any more, with what arrived.
    func quiesce() -> [[UInt8]]
    /// True once after a connection failure: a move's reply may be lost (the manager reconciles).
    func takeLostConnection() -> Bool
    func start()
    /// Stops for good; returns what arrived meanwhile.
    func finish() -> [[UInt8]]
}


/// The reliable fetch: `LMOVE queue → in-progress` pipelined for a backlog, and a `BlockingFetcher`
/// thread in `BLMOVE` for an empty queue, so the manager never polls Redis.
final class ReliableFetch: FetchStrategy {
    private let source: String
    private let destination: String
    private let blocking: BlockingFetcher

    /// Fetches `source` into `destination`; the blocking fetcher gets its own connection to `redis`.
    init(source: String, destination: String, redis: RedisConfiguration, name: String, logger: Logger) {
        self.source = source
        self.destination = destination
        blocking = BlockingFetcher(redis: redis, source: source, destination: destination, name: name, logger: logger)
    }

    func fetchCommands(count: Int) -> [RedisCommand] {
        (0..<max(0, count)).map { _ in RedisCommand("LMOVE", source, destination, "RIGHT", "LEFT") }
    }

    func waitForJob() { blocking.request() }
    func stopWaiting() { blocking.cancel() }
    var wakeFD: Int32 { blocking.wakeFD }
    func takeArrived() -> [[UInt8]] { blocking.take() }
    func quiesce() -> [[UInt8]] { blocking.quiesce() }
    func takeLostConnection() -> Bool { blocking.takeLostConnection() }
    func start() { blocking.start() }
    func finish() -> [[UInt8]] { blocking.finish() }
}
