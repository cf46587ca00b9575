import CVerkSystem
import Dispatch
import FoundationEssentials
import Glibc
import Logging
import VerkShared

/// The worker role: the process the supervisor starts for one queue. It receives jobs on fd 3, runs them
/// on `concurrency` threads, and reports back. It holds no job only it knows about: every job it has is
/// also in the supervisor's in-progress list in Redis.
package enum WorkerProcessMain {
    private static let socketFD = WorkerSpawnContract.socketFD

    /// True when this process was started by a supervisor as a worker process.
    package static var isWorkerProcess: Bool { ProcessInfo.processInfo.environment[WorkerSpawnContract.queueVariable] != nil }

    /// Runs the worker process; never returns. `middleware` runs around every job inside the per-job log line
    /// at `jobLogLevel` (`job_log_level`: a swift-log level or "off"); `clientMiddleware` runs on every job
    /// a running job enqueues, whose `created_at` is written in `timestamps` (`timestamp_format`).
    package static func run(registry: WorkerRegistry, middleware: [any ServerMiddleware] = [],
                           clientMiddleware: [any ClientMiddleware] = [], jobLogLevel: String = "info",
                           timestamps: TimestampFormat = .seconds, logger baseLogger: Logger) -> Never {
        let env = ProcessInfo.processInfo.environment
        // First, before anything can go wrong: die with the parent, and check it did not die already.
        _ = verk_set_parent_death_signal(SIGKILL)
        if let expected = env[WorkerSpawnContract.parentPIDVariable].flatMap(Int32.init), getppid() != expected { _exit(1) }
        OOMPreference.preferThisProcess()
        // Before any thread exists, so every thread inherits the mask and only the SIGTERM thread sees it.
        TermSignal.block()
        WorkerProcessExit.lineBufferStdout()
        // Processes that jobs start must not hold the socket open (the parent would see EOF late).
        FrameSocket.setCloseOnExec(socketFD)
        signal(SIGPIPE, SIG_IGN)
        // Grandchildren started by jobs are not worker processes.
        for name in WorkerSpawnContract.variables { unsetenv(name) }

        let queue = env[WorkerSpawnContract.queueVariable] ?? "default"
        let concurrency = max(1, env[WorkerSpawnContract.concurrencyVariable].flatMap(Int.init) ?? 10)
        var logger = baseLogger
        logger[metadataKey: "queue"] = "\(queue)"
        logger[metadataKey: "pid"] = "\(getpid())"

        let outbox = Outbox(fd: socketFD) { WorkerProcessExit.now(0) }  // the parent is gone: nothing left to report to
        outbox.send(.hello(version: Frame.protocolVersion, pid: getpid()))
        TermSignal.handle { [logger] in
            logger.info("SIGTERM: flushing and exiting")
            outbox.flush(timeout: 2)
            WorkerProcessExit.now(0)
        }
        let enqueuer = ParentEnqueuer(outbox: outbox)
        let runner = JobRunner(registry: registry, queue: queue, enqueuer: enqueuer,
                               middleware: serverMiddleware(jobLogLevel: jobLogLevel, app: middleware, logger: logger),
                               clientMiddleware: ClientMiddlewareChain(clientMiddleware), logger: logger, timestamps: timestamps)
        // Fd 4: which job each thread runs, in memory the supervisor reads after a crash.
        let marks = env[WorkerSpawnContract.startMarksVariable] == nil ? nil
            : StartMarks.adopt(fd: WorkerSpawnContract.startMarksFD, slots: concurrency)
        let pool = JobPool(concurrency: concurrency, execute: { slot, seq, payload in
            let start = DispatchTime.now().uptimeNanoseconds
            // The parent must know a job started before the job's code can crash the process: otherwise it
            // would requeue it as never started, and a poison job could crash-loop forever. The shared mark
            // says so at the cost of a memory store; the `started` frame (for the Busy page, events and hard
            // timeouts) rides in the next batched write. Without shared memory, the frame goes at once.
            marks?.mark(slot: slot, seq: seq)
            let result = runner.run(payload) { timeout in
                if marks == nil { outbox.sendNow(.started(seq: seq, timeout: timeout)) } else { outbox.send(.started(seq: seq, timeout: timeout)) }
            }
            let micros = (DispatchTime.now().uptimeNanoseconds - start) / 1000
            switch result {
            case .done: outbox.send(.done(seq: seq, micros: micros))
            case .failed(let f):
                outbox.send(.failed(seq: seq, micros: micros, errorClass: f.errorClass, message: f.message, backtrace: f.backtrace))
            }
            marks?.mark(slot: slot, seq: 0)
        }, onIdleWhileDraining: {
            outbox.flush()
            WorkerProcessExit.now(0)
        })
        logger.debug("worker process ready", metadata: ["concurrency": "\(concurrency)"])

        var decoder = FrameDecoder()
        let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: 256 * 1024, alignment: 8)
        while true {
            switch FrameSocket.read(socketFD, into: &decoder, scratch: scratch) {
            case .bytes: break
            case .wouldBlock: continue
            case .closed, .failed: WorkerProcessExit.now(0)  // the supervisor is gone; its in-progress list in Redis has our jobs
            }
            // Jobs that arrived in one read are queued under one lock; any other frame is handled after
            // the jobs before it (a drain must see them).
            var runs: [(seq: UInt64, payload: [UInt8])] = []
            defer { pool.submit(runs) }
            do {
                while let frame = try decoder.next() {
                    if case .run(let seq, let payload) = frame {
                        runs.append((seq, payload))
                        continue
                    }
                    pool.submit(runs)
                    runs.removeAll()
                    switch frame {
                    case .run: break
                    case .enqueueResult(let request, let error): enqueuer.complete(request: request, error: error)
                    case .drain:
                        for seq in pool.drain() { outbox.send(.released(seq: seq)) }
                    case .hello(let version, _):
                        if version != Frame.protocolVersion {
                            logger.error("protocol version mismatch", metadata: ["ours": "\(Frame.protocolVersion)", "parent": "\(version)"])
                            WorkerProcessExit.now(2)
                        }
                    default:
                        logger.error("unexpected frame from the supervisor", metadata: ["kind": "\(frame.kind)"])
                        WorkerProcessExit.now(3)
                    }
                }
            } catch {
                logger.error("bad frame from the supervisor; exiting", metadata: ["error": "\(error)"])
                WorkerProcessExit.now(3)
            }
        }
    }

    /// The per-job log line at `jobLogLevel`, around the app's middleware. A level that is not one is
    /// reported and treated as `info` rather than stopping the queue (configuration refuses it at start).
    static func serverMiddleware(jobLogLevel: String, app: [any ServerMiddleware], logger: Logger) -> ServerMiddlewareChain {
        do {
            return ServerMiddlewareChain(jobLogLevel: try JobLoggingMiddleware.level(setting: jobLogLevel), app: app)
        } catch {
            logger.error("\(error); logging each job at info")
            return ServerMiddlewareChain(jobLogLevel: .info, app: app)
        }
    }
}
