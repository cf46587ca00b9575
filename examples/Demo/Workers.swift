import Glibc
import Synchronization
import Verk

/// Does nothing: for throughput measurements.
struct NoopWorker: Worker {
    func perform(_ args: [JSONValue], context: JobContext) throws {}
}

/// `[ms]`: sleeps that long (a blocking job: it holds one pool thread).
struct SleepWorker: Worker {
    func perform(_ args: [JSONValue], context: JobContext) throws {
        usleep(UInt32(max(0, args.first?.intValue ?? 100)) * 1000)
    }
}

/// `[ms]`: keeps its thread busy for that many milliseconds of the thread's own CPU time (a busy loop on
/// `CLOCK_THREAD_CPUTIME_ID`, so a job preempted by other threads still does the whole amount of work): a
/// CPU-bound job, for scripts/bench. Fractions allowed.
struct SpinWorker: Worker {
    func perform(_ args: [JSONValue], context: JobContext) throws {
        let work = UInt64(max(0, args.first?.doubleValue ?? 1) * 1_000_000)
        let start = Self.threadCPUNanoseconds()
        while Self.threadCPUNanoseconds() &- start < work {}
    }

    static func threadCPUNanoseconds() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now)
        return UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec)
    }
}

/// `[message]`: throws. Retries come quickly (Verk's `retry_at`) so the demo shows the whole path.
struct FailWorker: Worker {
    struct Failure: Error, CustomStringConvertible { let description: String }
    static func retryAt(failedAt: Double, retryCount: Int) -> Double? { failedAt + Double(retryCount) }
    func perform(_ args: [JSONValue], context: JobContext) throws {
        throw Failure(description: args.first?.stringValue ?? "FailWorker failed on purpose")
    }
}

/// Kills its own process with SIGSEGV, by a real invalid memory access (a `kill(getpid(), SIGSEGV)` is
/// caught by Swift's crash backtracer, which then returns). Only this queue's worker process dies.
/// `["fatalError"]` crashes through Swift's `fatalError` instead; `["garbage"]` writes an invalid frame to
/// the supervisor's socket (fd 3), which must stop and replace the process, never crash itself.
struct CrashWorker: Worker {
    static func retryAt(failedAt: Double, retryCount: Int) -> Double? { failedAt + Double(retryCount) }
    func perform(_ args: [JSONValue], context: JobContext) throws {
        if args.first == "fatalError" { fatalError("CrashWorker called fatalError on purpose") }
        if args.first == "garbage" {
            let bad: [UInt8] = [0xFF, 0xFF, 0xFF, 0xFF, 0x42]
            _ = bad.withUnsafeBytes { write(3, $0.baseAddress, $0.count) }
            while true { sleep(3600) }
        }
        let invalid = UnsafeMutablePointer<Int>(bitPattern: 16)
        invalid?.pointee = 1
        raise(SIGKILL)  // unreachable unless address 16 is mapped
    }
}

/// Never returns (until the shutdown timeout puts it back in its queue).
struct HangWorker: Worker {
    func perform(_ args: [JSONValue], context: JobContext) throws {
        while true { sleep(3600) }
    }
}

/// `[path, i, ms]`: appends `{"jid":…,"args":[…]}` and a newline to `path` with one write (O_APPEND), so
/// concurrent jobs never interleave lines; with `ms`, after working that long (so kills catch jobs
/// running). Tests count these lines.
struct RecordWorker: Worker {
    func perform(_ args: [JSONValue], context: JobContext) throws {
        guard let path = args.first?.stringValue else { throw RecordError.noPath }
        if args.count > 2, let ms = args[2].intValue, ms > 0 { usleep(UInt32(ms) * 1000) }
        let line = JSONWriter.encode(["jid": .string(context.jid), "args": .array(args)]) + [0x0A]
        let fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw RecordError.cannotOpen(path, errno) }
        defer { close(fd) }
        guard line.withUnsafeBytes({ write(fd, $0.baseAddress, $0.count) }) == line.count else { throw RecordError.cannotOpen(path, errno) }
    }

    enum RecordError: Error, CustomStringConvertible {
        case noPath
        case cannotOpen(String, Int32)
        var description: String {
            switch self {
            case .noPath: return "RecordWorker needs a file path as its first argument"
            case .cannotOpen(let path, let e): return "cannot append to \(path): \(String(cString: strerror(e)))"
            }
        }
    }
}

/// `[queue, class, argsArray]`: enqueues another job through the supervisor.
struct EnqueueWorker: Worker {
    func perform(_ args: [JSONValue], context: JobContext) throws {
        guard args.count >= 2, let queue = args[0].stringValue, let className = args[1].stringValue else {
            throw FailWorker.Failure(description: "EnqueueWorker needs [queue, class, argsArray]")
        }
        try context.enqueue(className, args: args.count > 2 ? args[2].arrayValue ?? [] : [], queue: queue)
    }
}

/// `[megabytes]`: allocates, touches and keeps that much memory (an OOM kill takes only this queue down).
struct AllocWorker: Worker {
    /// Every allocation, never freed (as addresses: a pointer is not Sendable).
    static let kept = Mutex<[UInt]>([])
    func perform(_ args: [JSONValue], context: JobContext) throws {
        let bytes = max(0, args.first?.intValue ?? 10) << 20
        guard let p = malloc(bytes) else { return }
        memset(p, 1, bytes)
        AllocWorker.kept.withLock { $0.append(UInt(bitPattern: p)) }
    }
}

/// `[path]`: appends the job's end-to-end latency (now − enqueued_at, in microseconds) to `path`
/// (used by scripts/bench for latency percentiles).
struct LatencyWorker: Worker {
    func perform(_ args: [JSONValue], context: JobContext) throws {
        guard let path = args.first?.stringValue, let enqueuedAt = context.enqueuedAt else { return }
        let line = Array("\(Int((Timestamp.now() - enqueuedAt) * 1_000_000))\n".utf8)
        let fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard fd >= 0 else { return }
        _ = line.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        close(fd)
    }
}

/// `[text]`: prints a line to stdout, which is the node's stdout. `[text, false]` prints it without a
/// newline, so it waits in stdout's line buffer until the worker process flushes it on its way out.
struct PrintWorker: Worker {
    func perform(_ args: [JSONValue], context: JobContext) throws {
        print(args.first?.stringValue ?? "PrintWorker", terminator: args.count > 1 && args[1] == false ? "" : "\n")
    }
}

let demoWorkers: [any Worker.Type] = [
    NoopWorker.self, SleepWorker.self, SpinWorker.self, FailWorker.self, CrashWorker.self, HangWorker.self,
    RecordWorker.self, EnqueueWorker.self, AllocWorker.self, LatencyWorker.self, PrintWorker.self,
]
