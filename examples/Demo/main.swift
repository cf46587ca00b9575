import ArgumentParser
import Glibc
import Logging
import Verk

/// A Verk node with the demo workers. The same binary is the supervisor and, re-launched by it, each
/// queue's worker process.
struct VerkDemo: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "verk-demo", abstract: "Run a Verk node with the demo workers.")

    @Option(name: .customLong("redis-url"), help: "Redis URL (default: $VERK_REDIS_URL, else redis://127.0.0.1:6379/0).")
    var redisURL: String?
    @Option(name: .customLong("queue"), help: "NAME:CONCURRENCY, repeatable or comma-separated (default: default:10).")
    var queues: [String] = []
    @Option(name: .customLong("node-id"), help: "Stable node id (default: $VERK_NODE_ID, else the hostname).")
    var nodeID: String?
    @Option(name: .customLong("shutdown-timeout"), help: "Seconds running jobs get after SIGTERM (default 25).")
    var shutdownTimeout: Double?
    @Option(name: .customLong("poll-interval"), help: "Seconds between schedule/retry polls (default 1).")
    var pollInterval: Double?
    @Option(name: .customLong("config"), help: "A JSON configuration file.")
    var configFile: String?
    @Option(name: .customLong("memory-limit"), help: "MB of resident memory above which a worker process is replaced.")
    var memoryLimit: Int?
    @Flag(name: .customLong("print-events"), help: "Print every job, queue and process event on stdout, one line each.")
    var printEvents = false

    func run() throws {
        // A flag is its VERK_* variable: set there, it wins over the file and the environment, survives
        // Verk.main's overlay of the environment, and reaches the worker processes (started with this environment).
        let flags: [(variable: String, value: String?)] = [
            ("VERK_REDIS_URL", redisURL), ("VERK_QUEUES", queues.isEmpty ? nil : queues.joined(separator: ",")),
            ("VERK_NODE_ID", nodeID), ("VERK_SHUTDOWN_TIMEOUT", shutdownTimeout.map { "\($0)" }),
            ("VERK_POLL_INTERVAL", pollInterval.map { "\($0)" }), ("VERK_WORKER_MEMORY_LIMIT", memoryLimit.map { "\($0)" }),
        ]
        for case let (variable, value?) in flags { setenv(variable, value, 1) }
        var configuration = VerkConfiguration()
        if let configFile {
            do { try configuration.apply(file: configFile) } catch {
                writeAll(STDERR_FILENO, "verk-demo: \(error)\n")
                Glibc.exit(78)
            }
        }
        // To stderr, where operators and the tests read it; Verk.main sets the level from log_level.
        LoggingSystem.bootstrap(StreamLogHandler.standardError)
        let printEvents = printEvents
        Verk.main(configuration: configuration, workers: demoWorkers + [FlakyWorker.self, InteropFail.self, HardJob.self, OrphanWorker.self], logger: Logger(label: "verk-demo")) { supervisor in
            guard printEvents else { return }
            supervisor.events.onEvent { event in
                writeAll(STDOUT_FILENO, "event \(event)\n")  // unbuffered: a test reads it live
            }
        }
    }
}

/// Writes `text` to `fd` at once, past stdio's buffers.
func writeAll(_ fd: Int32, _ text: String) {
    let bytes = Array(text.utf8)
    var offset = 0
    while offset < bytes.count {
        let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + offset, $0.count - offset) }
        if n > 0 { offset += n } else if n < 0 && errno == EINTR { continue } else { return }
    }
}

VerkDemo.main()
