import Logging
import VerkShared

/// How a queue manager takes jobs from its queue into this node's in-progress list: the seam where the
/// fetch order plugs in (Sidekiq's swappable fetch class). Every move it makes must be atomic — a job is
/// in the queue or in progress, never only in memory. Confined to the manager's thread, except for what
/// the implementation runs on its own threads behind `wakeFD`.
protocol FetchStrategy: AnyObject {
    /// Items for the manager's pipeline that atomically move up to `count` jobs into the in-progress list.
    func fetchItems(count: Int) -> [PipelineItem]
    /// The jobs those items' replies say were moved, oldest first.
    func fetched(_ replies: ArraySlice<RedisReply>) -> [[UInt8]]
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


/// The reliable fetch: for a backlog, the `fetch_jobs` script moves a batch from the queue to the
/// in-progress list in one atomic step (three commands in Redis however many jobs; one `LMOVE` per job
/// cost Redis twice the CPU); for an empty queue, a `BlockingFetcher` thread waits in `BLMOVE`, so the
/// manager never polls Redis.
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

    /// The most one script call moves (Lua's `unpack` takes a few thousand values at most).
    static let batchLimit = 1000

    func fetchItems(count: Int) -> [PipelineItem] { Self.items(source: source, destination: destination, count: count) }
    func fetched(_ replies: ArraySlice<RedisReply>) -> [[UInt8]] { Self.jobs(in: replies) }

    /// `fetch_jobs` calls moving up to `count` jobs from `source` to `destination`.
    static func items(source: String, destination: String, count: Int) -> [PipelineItem] {
        stride(from: 0, to: max(0, count), by: batchLimit).map { start in
            .script(ScriptCall(Scripts.fetchJobs, keys: [source, destination], args: [min(batchLimit, count - start)]))
        }
    }

    /// The jobs in those calls' replies, oldest first.
    static func jobs(in replies: ArraySlice<RedisReply>) -> [[UInt8]] {
        replies.flatMap { $0.array?.compactMap(\.bytes) ?? [] }
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
