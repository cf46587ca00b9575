import Dispatch
import FoundationEssentials
import Glibc
import Logging
import VerkShared

/// Waits in Redis for the next job of an empty queue, so its queue manager need not poll. The manager
/// asks for one job (`request`) when it has a free slot and the queue looked empty; this thread, with its
/// own connection, blocks in BLMOVE (the same atomic move into the in-progress list) and, when a job
/// arrives, hands it over and wakes the manager through a pipe the manager polls alongside its child.
/// `@unchecked Sendable`: state only under `condition`; the connection only on this thread.
final class BlockingFetcher: @unchecked Sendable {
    private let condition = ThreadCondition()
    private var wanted = false
    private var finished = false
    /// True while a BLMOVE is under way: it may still move a job into the in-progress list.
    private var blocking = false
    private var lostConnection = false
    private var delivered: [[UInt8]] = []
    private let done = DispatchSemaphore(value: 0)
    private let wakeRead: Int32
    private let wakeWrite: Int32
    private let redisConfiguration: RedisConfiguration
    private let source: String
    private let destination: String
    private let name: String
    private let logger: Logger
    static let block = 0.5

    /// The fd the manager adds to its poll set: readable when a job was handed over.
    var wakeFD: Int32 { wakeRead }

    init(redis: RedisConfiguration, source: String, destination: String, name: String, logger: Logger) {
        var fds: [Int32] = [-1, -1]
        _ = pipe(&fds)
        for fd in fds {
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        }
        wakeRead = fds[0]
        wakeWrite = fds[1]
        redisConfiguration = redis
        self.source = source
        self.destination = destination
        self.name = name
        self.logger = logger
    }

    deinit {
        close(wakeRead)
        close(wakeWrite)
    }

    func start() {
        OSThread.start(name: name) { [self] in
            run()
            done.signal()
        }
    }

    /// Ask for one job (idempotent until it is delivered).
    func request() {
        condition.lock()
        if !wanted {
            wanted = true
            condition.signal()
        }
        condition.unlock()
    }

    /// No job wanted any more (quiet, stopping). A BLMOVE already under way may still deliver one.
    func cancel() {
        condition.lock()
        wanted = false
        condition.unlock()
    }

    /// Jobs handed over since the last call.
    func take() -> [[UInt8]] {
        var buf = [UInt8](repeating: 0, count: 64)
        while read(wakeRead, &buf, buf.count) > 0 {}
        condition.lock()
        defer { condition.unlock() }
        let jobs = delivered
        delivered.removeAll()
        return jobs
    }

    /// Stops asking, waits out a BLMOVE under way (at most one block), and returns what was fetched: after
    /// this, until the next `request`, the fetcher cannot touch the in-progress list.
    func quiesce() -> [[UInt8]] {
        condition.lock()
        wanted = false
        while blocking { condition.wait() }
        condition.unlock()
        return take()
    }

    /// True (once) if the fetcher's connection failed since the last call: a BLMOVE reply may be lost.
    func takeLostConnection() -> Bool {
        condition.lock()
        defer {
            lostConnection = false
            condition.unlock()
        }
        return lostConnection
    }

    /// Stops the thread (within one BLMOVE timeout) and returns anything it fetched meanwhile.
    func finish() -> [[UInt8]] {
        condition.lock()
        finished = true
        wanted = false
        condition.broadcast()
        condition.unlock()
        done.wait()
        return take()
    }

    private func run() {
        var connection: RedisConnection?
        var failures = 0
        while true {
            condition.lock()
            while !wanted && !finished { condition.wait() }
            let stop = finished
            blocking = !stop
            condition.unlock()
            if stop { return }
            var payload: [UInt8]?
            var failed = false
            do {
                let conn = try connection ?? RedisConnection(configuration: redisConfiguration, name: name, logger: logger)
                connection = conn
                payload = try conn.blockingCommand(
                    RedisCommand("BLMOVE", source, destination, "RIGHT", "LEFT", Self.block), blockingSeconds: Self.block).bytes
                failures = 0
            } catch {
                // The queue manager logs outages; here just note it (a lost BLMOVE reply leaves the job in the
                // in-progress list, which the manager then reconciles) and back off.
                failed = true
                failures += 1
            }
            condition.lock()
            blocking = false
            if let payload {
                delivered.append(payload)
                wanted = false
            }
            if failed {
                lostConnection = true
                _ = condition.wait(until: Date().addingTimeInterval(min(1, 0.05 * Double(failures))))
            }
            condition.broadcast()
            condition.unlock()
            if payload != nil {
                var one: UInt8 = 1
                _ = write(wakeWrite, &one, 1)
            }
        }
    }
}
