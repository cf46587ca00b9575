import ArgumentParser
import Foundation
import VerkShared

/// `verk bench-enqueue`: times enqueues through `VerkClient` (used by scripts/bench).
struct BenchEnqueueCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-enqueue", abstract: "Time N enqueues (one at a time, or in bulk batches).", shouldDisplay: false)

    @OptionGroup var global: GlobalOptions
    @Option var queue = "bench"
    @Option(name: .customLong("class")) var className = "NoopWorker"
    @Option var count = 10_000
    @Option(help: "Jobs per round trip; 1 means one enqueue call per job.") var batch = 1
    @Option(help: "Arguments as a JSON array.") var args = "[]"
    @Option(help: "Paced: at most this many jobs per second (one at a time).") var rate: Double?

    func run() throws {
        let url = global.redisURL ?? ProcessInfo.processInfo.environment["VERK_REDIS_URL"] ?? RedisConfiguration.defaultURL
        let client = try VerkClient(url: url, namespace: global.namespace)
        guard let jobArgs = try JSONParser.parse(args).arrayValue else { throw CLIError(description: "--args must be a JSON array") }
        let start = DispatchTime.now().uptimeNanoseconds
        if let rate {
            for i in 0..<count {
                let due = start + UInt64(Double(i) / rate * 1e9)
                let now = DispatchTime.now().uptimeNanoseconds
                if due > now { usleep(UInt32((due - now) / 1000)) }
                try client.enqueue(Job(className: className, args: jobArgs, queue: queue))
            }
        } else if batch <= 1 {
            for _ in 0..<count { try client.enqueue(Job(className: className, args: jobArgs, queue: queue)) }
        } else {
            var left = count
            while left > 0 {
                let n = min(batch, left)
                try client.enqueue(many: (0..<n).map { _ in Job(className: className, args: jobArgs, queue: queue) })
                left -= n
            }
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        print(String(format: "%d jobs in %.3f s = %.0f jobs/s", count, seconds, Double(count) / seconds))
    }
}

/// `verk bench-wait`: returns once `stat:processed` reaches N, printing how long that took.
struct BenchWaitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-wait", abstract: "Wait until stat:processed reaches N.", shouldDisplay: false)

    @OptionGroup var global: GlobalOptions
    @Option var processed: Int
    @Option var timeout: Double = 600

    func run() throws {
        let conn = try global.connect()
        let start = Date()
        while (try conn.command("GET", global.keys.processed).int ?? 0) < processed {
            if Date().timeIntervalSince(start) > timeout { throw CLIError(description: "timed out waiting for \(processed) processed jobs") }
            usleep(2000)
        }
        print(String(format: "%.3f", Date().timeIntervalSince(start)))
    }
}
