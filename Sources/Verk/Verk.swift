import FoundationEssentials
import Glibc
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
    /// The `VERK_*` environment variables are overlaid on `configuration` here, as the last layer after code
    /// and file (applying them twice gives the same result, but a field set in code after the caller applied
    /// them loses to its variable), and the result is validated. An invalid configuration is one line
    /// `verk: <what, where, what to do>` on stderr and exit code 78, in either role, never a crash.
    /// `log_level` becomes the level of `logger` in both roles.
    ///
    /// `middleware` runs around every job in its worker process (inside Verk's per-job log line at
    /// `job_log_level`), `clientMiddleware` on every job a running job enqueues; see `ServerMiddleware` and
    /// `ClientMiddleware`.
    ///
    /// Exit codes: 0 after a clean shutdown, 1 when Redis is unreachable at start, 78 for invalid configuration.
    ///
    /// `onStart` runs in the supervisor role only, before any queue starts, with the `Supervisor`: register
    /// event handlers there, and keep it to change queues at runtime (`addQueue`, `pause`, …).
    public static func main(configuration: VerkConfiguration, workers: [any Worker.Type],
                            middleware: [any ServerMiddleware] = [], clientMiddleware: [any ClientMiddleware] = [],
                            logger: Logger = Logger(label: "verk"),
                            onStart: (Supervisor) -> Void = { _ in }) -> Never {
        // The app has read its arguments: a Redis password among them leaves the process list.
        CommandLineSecrets.hidePasswordsInProcessList()
        let configuration = validConfiguration(overlaying: configuration)
        var logger = logger
        logger.logLevel = Logger.Level(rawValue: configuration.logLevel) ?? .info  // validated: never the fallback
        let registry: WorkerRegistry
        do {
            registry = try WorkerRegistry(workers)
        } catch {
            UnbufferedOutput.write("verk: \(error)\n")
            exit(78)
        }
        if WorkerProcessMain.isWorkerProcess {
            WorkerProcessMain.run(registry: registry, middleware: middleware, clientMiddleware: clientMiddleware,
                                  jobLogLevel: configuration.jobLogLevel, timestamps: configuration.timestamps, logger: logger)
        }
        let supervisor = Supervisor(configuration: configuration, retrySchedules: registry.retrySchedules, logger: logger)
        onStart(supervisor)
        exit(supervisor.run())
    }

    /// `configuration` with the environment overlaid, or exit 78 with the reason.
    private static func validConfiguration(overlaying configuration: VerkConfiguration) -> VerkConfiguration {
        var configuration = configuration
        do {
            try configuration.apply(environment: ProcessInfo.processInfo.environment)
            try configuration.validate()
        } catch {
            UnbufferedOutput.write("verk: \(error)\n")
            exit(78)
        }
        return configuration
    }
}

extension VerkConfiguration {
    /// Defaults, then the JSON file (if any), then `VERK_*` environment variables. `Verk.main` overlays the
    /// environment itself: a program without a file can start from `VerkConfiguration()`.
    public static func load(file: String? = nil, environment: [String: String] = ProcessInfo.processInfo.environment)
        throws(ConfigurationError) -> VerkConfiguration {
        var configuration = VerkConfiguration()
        if let file { try configuration.apply(file: file) }
        try configuration.apply(environment: environment)
        return configuration
    }
}
