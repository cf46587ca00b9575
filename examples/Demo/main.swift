import ArgumentParser
import Foundation
import Logging
import Verk

/// A Verk node with the demo workers. The same binary is the supervisor and, re-launched by it, each
/// queue's worker process.
struct VerkDemo: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "verk-demo", abstract: "Run a Verk node with the demo workers.")

    @Option(name: .customLong("redis-url"), help: "Redis URL (default: $VERK_REDIS_URL, else redis://127.0.0.1:6379/0).")
    var redisURL: String?
    @Option(name: .customLong("queue"), help: "NAME:CONCURRENCY, repeatable (default: default:10).")
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

    func run() throws {
        var configuration: VerkConfiguration
        do {
            configuration = try VerkConfiguration.load(file: configFile)
            if let redisURL { configuration.redisURL = redisURL }
            if !queues.isEmpty { configuration.queues = try queues.map { try QueueConfiguration(parsing: $0) } }
            if let nodeID { configuration.nodeID = nodeID }
            if let shutdownTimeout { configuration.shutdownTimeout = shutdownTimeout }
            if let pollInterval { configuration.pollInterval = pollInterval }
            if let memoryLimit { configuration.workerMemoryLimitMB = memoryLimit }
            try configuration.validate()
        } catch {
            FileHandle.standardError.write(Data("verk-demo: \(error)\n".utf8))
            Foundation.exit(78)
        }
        let level = Logger.Level(rawValue: configuration.logLevel) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        Verk.main(configuration: configuration, workers: demoWorkers, logger: Logger(label: "verk-demo"))
    }
}

VerkDemo.main()
