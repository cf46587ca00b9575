import ArgumentParser
import Foundation

/// `verk-chaos` (through `scripts/chaos`): a seeded chaos run against real `verk-demo` nodes. See ChaosRun.
struct VerkChaosCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verk-chaos",
        abstract: "Push RecordWorker jobs (half by Ruby's Sidekiq::Client, half by VerkClient) through verk-demo nodes while "
            + "killing worker processes and supervisors, restarting and stopping Redis, cutting a node off and more; then "
            + "account for every job. Needs root (a network namespace).")

    @Option(help: "Seed of the schedule, the targets and the jobs (default: random, printed).") var seed: UInt64?
    @Option(help: "RecordWorker jobs to push.") var jobs = 20_000
    @Option(help: "Seconds of faults (jobs are pushed over the first 80%).") var seconds: Double = 90
    @Option(help: "Seconds allowed after the faults for every job to be accounted for (default: max(60, seconds / 2)).")
    var drain: Double?
    @Option(help: "Poison CrashWorker jobs mixed in (default: jobs / 4000, at least 3).") var poison: Int?
    @Option(help: "Threads of the nodes' default queue (chaos-b: half). Jobs take 1–30 ms, so two nodes at 8 run about 1,000 jobs/s at best: raise it for pushes faster than that.")
    var concurrency = 8
    @Option(help: "The verk-demo executable (default: next to this one).") var demo: String?
    @Option(help: "Name of the network namespace to create (at most 13 characters; also the veth pair's stem).")
    var netns = "vchaos\(getpid())"
    @Option(help: "Working directory (default: a new one under /tmp, removed after a clean run).") var workDir: String?
    @Flag(help: "Keep the working directory (logs, record files, the AOF) after a clean run.") var keep = false

    func run() throws {
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        let options = ChaosRun.Options(
            seed: seed ?? UInt64.random(in: 1...999_999), jobs: max(2, jobs), seconds: max(10, seconds),
            drain: drain ?? max(60, seconds / 2), poison: poison ?? max(3, jobs / 4000), concurrency: max(1, concurrency),
            demo: demo ?? ((exe as NSString).deletingLastPathComponent + "/verk-demo"), netns: netns, workDir: workDir, keep: keep)
        let code = ChaosRun(options).run()
        throw ExitCode(code)
    }
}

VerkChaosCommand.main()
