import ArgumentParser
import Foundation
import VerkShared

/// `verk queues`: every known queue with its size, latency, totals, running jobs and whether it is paused.
struct QueuesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "queues", abstract: "List queues: size, latency, processed, failed, running, paused.")

    @OptionGroup var global: GlobalOptions
    @Flag(help: "Print one JSON object: queue name → {size, latency, processed, failed, running, paused}.") var json = false

    func run() throws {
        let queues = try QueueStats.read(try global.connect(), keys: global.keys)
        if json {
            printJSON(QueueStats.json(queues))
            return
        }
        let header = ["QUEUE", "SIZE", "LATENCY", "PROCESSED", "FAILED", "RUNNING", "STATE"]
        let rows = queues.map { q in
            [q.name, "\(q.size)", String(format: "%.3fs", q.latency), "\(q.processed)", "\(q.failed)", "\(q.running)",
             q.paused ? "paused" : "active"]
        }
        for line in alignedColumns([header] + rows) { print(line) }
    }
}

/// Left-aligned columns two spaces apart.
func alignedColumns(_ rows: [[String]]) -> [String] {
    let columns = rows.map(\.count).max() ?? 0
    let widths = (0..<columns).map { c in rows.map { c < $0.count ? $0[c].count : 0 }.max() ?? 0 }
    return rows.map { row in
        row.enumerated().map { c, cell in
            c == row.count - 1 ? cell : cell.padding(toLength: widths[c], withPad: " ", startingAt: 0)
        }.joined(separator: "  ")
    }
}
