import ArgumentParser
import Foundation
import VerkShared

/// Where `bench-enqueue --staged` puts a queue's jobs, out of every system's sight, until `bench-wait
/// --release` moves them into the queue with one RENAME: a drain then starts with the whole backlog there
/// at once, on a system that is already up and idle.
private func stagingKey(_ keys: KeySpace, queue: String) -> String { keys.queue(queue) + ":bench-staged" }

/// `verk bench-enqueue`: times enqueues through `VerkClient` (used by scripts/bench). Jobs are written as
/// every push writes them (`enqueued_at` in float seconds unless `VERK_TIMESTAMP_FORMAT` says otherwise).
struct BenchEnqueueCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-enqueue", abstract: "Time N enqueues (one at a time, or in bulk batches).", shouldDisplay: false)

    @OptionGroup var global: GlobalOptions
    @Option var queue = "bench"
    @Option(name: .customLong("class")) var className = "NoopWorker"
    @Option var count = 10_000
    @Option(help: "Jobs per round trip; 1 means one enqueue call per job.") var batch = 1
    @Option(help: "Arguments as a JSON array.") var args = "[]"
    @Option(help: "Paced: at most this many jobs per second (one at a time), each due at start + i / rate.") var rate: Double?
    @Flag(help: "Push the jobs (as they would be pushed to the queue) into its staging key, for bench-wait --release.")
    var staged = false
    @Option(help: "A JSON object of extra fields for every job (the bench marks its drains' jobs, for Sidekiq's count).")
    var extra = "{}"

    func run() throws {
        let client = try global.client()
        guard let jobArgs = try JSONParser.parse(args).arrayValue else { throw CLIError(description: "--args must be a JSON array") }
        guard let fields = try JSONParser.parse(extra).objectValue else { throw CLIError(description: "--extra must be a JSON object") }
        let makeJob = {
            var job = Job(className: className, args: jobArgs, queue: queue)
            for member in fields { job[member.key] = member.value }
            return job
        }
        let start = DispatchTime.now().uptimeNanoseconds
        if staged {
            try stage(count: count, batch: max(1, batch), makeJob: makeJob, client: client)
        } else if let rate {
            for i in 0..<count {
                let due = start + UInt64(Double(i) / rate * 1e9)
                let now = DispatchTime.now().uptimeNanoseconds
                if due > now { usleep(UInt32((due - now) / 1000)) }
                try client.enqueue(makeJob())
            }
        } else if batch <= 1 {
            for _ in 0..<count { try client.enqueue(makeJob()) }
        } else {
            var left = count
            while left > 0 {
                let n = min(batch, left)
                try client.enqueue(many: (0..<n).map { _ in makeJob() })
                left -= n
            }
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        print(String(format: "%d jobs in %.6f s = %.0f jobs/s", count, seconds, Double(count) / seconds))
    }

    /// The client's own push commands, with the LPUSH aimed at the staging key.
    private func stage(count: Int, batch: Int, makeJob: () -> Job, client: VerkClient) throws {
        let timestamps = try global.timestamps()
        let push = JobPush(keys: global.keys, timestamps: timestamps)
        let staging = Array(stagingKey(global.keys, queue: queue).utf8)
        var left = count
        while left > 0 {
            let n = min(batch, left)
            let now = Timestamp.now()
            let ready = try JobPush.prepare((0..<n).map { _ in makeJob() }, at: nil, middleware: client.middleware, now: now, timestamps: timestamps)
            let commands = push.commands(for: ready, now: now).map { command in
                command.name == "LPUSH" ? RedisCommand(arguments: [command.arguments[0], staging] + command.arguments.dropFirst(2)) : command
            }
            let replies = try client.withConnection { conn in try conn.pipeline(commands) }
            if let error = replies.compactMap(\.errorMessage).first { throw CLIError(description: "staging jobs failed: \(error)") }
            left -= n
        }
    }
}

/// `verk bench-wait`: times a drain and prints the seconds it took. It ends when the watched queues and the
/// in-progress lists of the `--node`s for them are all empty (every job fetched and acknowledged: Verk writes
/// `stat:processed` at most every 0.1 s, too coarse for a clock), or when `--key` exists (Sidekiq, which adds
/// to `stat:processed` only at its heartbeat, every 5 s: the bench's server middleware in
/// scripts/bench_sidekiq.rb sets that key when the drain's last job is done), or when `stat:processed`
/// reaches `--processed`. With `--queue`, the clock starts at the first fetch from those queues (their total
/// length falls below what it was), so a system's start-up and its wake-up from idle are not counted;
/// `--release` first moves each queue's staged jobs (`bench-enqueue --staged`) into it.
struct BenchWaitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-wait", abstract: "Time a drain: until the queues and in-progress lists are empty, a key exists, or stat:processed reaches N.",
        shouldDisplay: false)

    @OptionGroup var global: GlobalOptions
    @Option(help: "Wait until stat:processed reaches this.") var processed: Int?
    @Option(name: .customLong("queue"), help: "A queue to watch (repeatable): the clock starts at its first fetch.") var queues: [String] = []
    @Flag(help: "Move each watched queue's staged jobs into it (RENAME) first.") var release = false
    @Option(name: .customLong("node"), help: "A node whose in-progress lists for the queues must be empty too (repeatable).")
    var nodes: [String] = []
    @Option(help: "Wait until this key exists.") var key: String?
    @Option var timeout: Double = 600
    @Option(help: "Seconds between polls.") var interval: Double = 0.002
    @Flag(help: "Print {\"seconds\": from the first fetch, \"since_start\": from this command's start, \"jobs\": queued at the start}.")
    var json = false

    func run() throws {
        guard [processed != nil, key != nil, !nodes.isEmpty].filter({ $0 }).count == 1 else {
            throw CLIError(description: "bench-wait needs one of --node ID (with --queue), --key KEY, --processed N")
        }
        guard nodes.isEmpty || !queues.isEmpty else { throw CLIError(description: "--node needs --queue") }
        guard !release || !queues.isEmpty else { throw CLIError(description: "--release needs --queue") }
        let conn = try global.connect()
        let keys = global.keys
        let lengths = queues.map { RedisCommand("LLEN", keys.queue($0)) }
        let inProgress = nodes.flatMap { node in queues.map { RedisCommand("LLEN", keys.inProgress(queue: $0, node: node)) } }
        let check = key.map { RedisCommand("EXISTS", $0) } ?? RedisCommand("GET", keys.processed)
        func poll() throws -> (queued: Int, done: Bool) {
            let replies = try conn.pipeline(lengths + inProgress + [check])
            let queued = replies.prefix(lengths.count).reduce(0) { $0 + ($1.int ?? 0) }
            if !nodes.isEmpty { return (queued, queued == 0 && replies.dropFirst(lengths.count).dropLast().allSatisfy { $0.int == 0 }) }
            return (queued, (replies.last?.int ?? 0) >= (key == nil ? processed! : 1))
        }
        let start = Timestamp.now()
        var initial: Int
        if release {
            // Counted before the RENAME, which nothing but this command touches: no fetch can come between.
            let staged = try conn.pipeline(queues.map { RedisCommand("LLEN", stagingKey(keys, queue: $0)) }).reduce(0) { $0 + ($1.int ?? 0) }
            // RENAME replaces its destination: jobs already in a queue would be lost, not drained.
            guard try poll().queued == 0 else { throw CLIError(description: "--release needs the watched queues empty") }
            initial = staged
            let renames = queues.map { RedisCommand("RENAME", stagingKey(keys, queue: $0), keys.queue($0)) }
            if let error = try conn.pipeline(renames).compactMap(\.errorMessage).first {
                throw CLIError(description: "cannot release the staged jobs (\(error)): stage them with bench-enqueue --staged, into empty queues")
            }
        } else {
            initial = try poll().queued
        }
        var firstFetch: Double? = queues.isEmpty || initial == 0 ? start : nil
        while true {
            let now = Timestamp.now()
            let state = try poll()
            if firstFetch == nil, state.queued < initial { firstFetch = now }
            if state.done, let first = firstFetch {
                let end = Timestamp.now()
                if json {
                    printJSON(.object(["seconds": .double(end - first), "since_start": .double(end - start), "jobs": .int(initial)]))
                } else {
                    print(String(format: "%.3f", end - first))
                }
                return
            }
            if now - start > timeout {
                let what = key.map { "key \($0)" } ?? processed.map { "\($0) processed jobs" } ?? "the queues and in-progress lists to be empty"
                throw CLIError(description: "timed out after \(Int(timeout)) s waiting for \(what) (\(state.queued) jobs still queued)")
            }
            usleep(UInt32(interval * 1e6))
        }
    }
}
