import Foundation
import Logging
import VerkShared

/// Waits in Redis for the next job of an empty queue, so its queue manager need not poll. The manager
/// asks for one job (`request`) when it has a free slot and the queue looked empty; this thread, with its
/// own connection, blocks in BLMOVE (the same atomic move into the in-progress list) and, when a job
/// arrives, hands it over and wakes the manager through a pipe the manager polls alongside its child.
/// `@unchecked Sendable`: state only under `condition`; the connection only on this thread.
final class BlockingFetcher: @unchecked Sendable {
    private let condition = NSCondition()
    private var wanted = false
    private var finished = false
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
        let thread = Thread { [self] in
            run()
            done.signal()
        }
        thread.name = name
        thread.start()
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

    var isRequested: Bool {
        condition.lock()
        defer { condition.unlock() }
        return wanted
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
            condition.unlock()
            if stop { return }
            do {
                if connection == nil { connection = try RedisConnection(configuration: redisConfiguration, name: name, logger: logger) }
                let reply = try connection!.blockingCommand(
                    RedisCommand("BLMOVE", source, destination, "RIGHT", "LEFT", Self.block), blockingSeconds: Self.block)
                failures = 0
                guard let payload = reply.bytes else { continue }
                condition.lock()
                delivered.append(payload)
                wanted = false
                condition.unlock()
                var one: UInt8 = 1
                _ = write(wakeWrite, &one, 1)
            } catch {
                // The queue manager logs outages; here just back off. A lost BLMOVE reply leaves the job in
                // the in-progress list, where the manager's reconciliation finds it.
                failures += 1
                condition.lock()
                _ = condition.wait(until: Date().addingTimeInterval(min(1, 0.05 * Double(failures))))
                condition.unlock()
            }
        }
    }
}
