import Foundation
import VerkShared

/// Enqueues RecordWorker jobs in small batches through Sentinel, on its own thread, while a test fails the
/// master over. For each batch it keeps which server acknowledged it and what `WAIT 1` (sent in the same
/// pipeline) said: a failover can lose exactly the writes a master acknowledged that no replica had, so
/// this is how a test says which jobs were at risk and which must have survived.
/// `@unchecked Sendable`: `batches` and `stopping` only under `lock`; the connection only on the thread.
final class FailoverProducer: @unchecked Sendable {
    struct Batch {
        let jids: [String]
        /// The server that acknowledged the batch; nil when the pipeline failed (it may or may not have run).
        let endpoint: String?
        /// Replicas that had the batch when WAIT returned (0 after its timeout).
        let replicas: Int
    }

    private let connection: RedisConnection
    private let push: JobPush
    private let path: String
    private let lock = NSLock()
    private var batches: [Batch] = []
    private var stopping = false
    private let finished = DispatchSemaphore(value: 0)
    static let batchSize = 10
    /// Milliseconds WAIT gives a replica to confirm a batch.
    static let waitTimeout = 200

    init(url: String, namespace: String, file: RecordFile) throws {
        var config = try RedisConfiguration(url: url)
        // Short: while the master is unreachable the batches fail and are counted, rather than stall.
        config.reconnectTimeout = 1
        connection = try RedisConnection(configuration: config, name: "verk-test-producer")
        push = JobPush(keys: KeySpace(namespace: namespace))
        path = file.path
    }

    func start() {
        Thread { [self] in
            run()
            finished.signal()
        }.start()
    }

    /// Stops after the batch under way; every batch sent.
    func stop() -> [Batch] {
        lock.withLock { stopping = true }
        finished.wait()
        return lock.withLock { batches }
    }

    /// How many batches so far.
    var count: Int { lock.withLock { batches.count } }

    private func run() {
        var sequence = 0
        while !lock.withLock({ stopping }) {
            let now = Timestamp.now()
            let jobs = (0..<Self.batchSize).map { _ -> (job: Job, at: Double?) in
                var job = Job(className: "RecordWorker", args: [.string(path), .int(sequence)], queue: "default")
                sequence += 1
                JobPush.normalize(&job, now: now)
                return (job, nil)
            }
            let commands = push.commands(for: jobs, now: now) + [RedisCommand("WAIT", 1, Self.waitTimeout)]
            var batch = Batch(jids: jobs.compactMap(\.job.jid), endpoint: nil, replicas: 0)
            if let replies = try? connection.pipeline(commands), replies.dropLast().allSatisfy({ $0.errorMessage == nil }) {
                batch = Batch(jids: batch.jids, endpoint: connection.connectedEndpoint, replicas: replies.last?.int ?? 0)
            }
            lock.withLock { batches.append(batch) }
            // The producer's pace (about 100 batches a second when replicas confirm at once), not a wait for a condition.
            Thread.sleep(forTimeInterval: batch.endpoint == nil ? 0.05 : 0.01)
        }
    }
}
