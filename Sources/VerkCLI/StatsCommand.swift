import ArgumentParser
import VerkShared

struct StatsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "stats", abstract: "Show processed, failed, queue sizes and latency.")

    @OptionGroup var global: GlobalOptions
    @Flag(help: "Print one JSON object.") var json = false

    func run() throws {
        let stats = try Stats.read(try global.connect(), keys: global.keys)
        if json { printJSON(stats.json); return }
        print("processed:  \(stats.processed)")
        print("failed:     \(stats.failed)")
        print("enqueued:   \(stats.enqueued)")
        print("scheduled:  \(stats.scheduled)")
        print("retries:    \(stats.retries)")
        print("dead:       \(stats.dead)")
        print("processes:  \(stats.processes)")
        print("busy:       \(stats.busy)")
        if !stats.queues.isEmpty {
            print("queues:")
            for name in stats.queues.keys.sorted() {
                let q = stats.queues[name]!
                print("  \(name)  size \(q.size)  latency \(String(format: "%.3f", q.latency))s")
            }
        }
    }
}
