import Foundation
import Logging
@_exported import VerkShared
@_exported import VerkSupervisor
@_exported import VerkWorker

/// The one entry point of a Verk application.
public enum Verk {
    /// Runs this executable in the role it was started in: launched by a user it is the **supervisor**
    /// (owns Redis, starts one worker process per queue, drains on SIGTERM); launched by a supervisor it is
    /// the **worker process** of one queue. Call it from `main` with the same workers in both roles, after
    /// building the configuration the same way (a worker process is started with the same arguments).
    ///
    /// Exit codes: 0 after a clean shutdown, 1 when Redis is unreachable at start, 78 for invalid configuration.
    public static func main(configuration: VerkConfiguration, workers: [any Worker.Type],
                            logger: Logger = Logger(label: "verk")) -> Never {
        let registry: WorkerRegistry
        do {
            registry = try WorkerRegistry(workers)
        } catch {
            FileHandle.standardError.write(Data("verk: \(error)\n".utf8))
            exit(78)
        }
        if WorkerProcessMain.isWorkerProcess { WorkerProcessMain.run(registry: registry, logger: logger) }
        exit(Supervisor(configuration: configuration, retrySchedules: registry.retrySchedules, logger: logger).run())
    }
}

extension VerkConfiguration {
    /// Defaults, then the JSON file (if any), then `VERK_*` environment variables.
    public static func load(file: String? = nil, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> VerkConfiguration {
        var configuration = VerkConfiguration()
        if let file { try configuration.apply(file: file) }
        try configuration.apply(environment: environment)
        return configuration
    }
}
