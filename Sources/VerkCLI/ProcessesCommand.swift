import ArgumentParser
import Foundation
import VerkShared

struct ProcessesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "processes",
        abstract: "List nodes: pid, queues with concurrency, busy, RSS, quiet, last beat, jobs in progress, expired.")

    @OptionGroup var global: GlobalOptions
    @Flag(help: "Print a JSON array.") var json = false
    @Option(help: "Seconds without a beat after which a node whose record is gone counts as expired.") var expiry: Double = 30

    func run() throws {
        let nodes = try NodeStatus.read(try global.connect(), keys: global.keys, defaultExpiry: expiry)
        if json { return printJSON(.array(nodes.map(\.json))) }
        let now = Timestamp.now()
        let rows = nodes.map { n -> [String] in
            [n.node, n.pid.map(String.init) ?? "-",
             n.queues.isEmpty ? "-" : n.queues.sorted { $0.key < $1.key }.map { "\($0.key):\($0.value)" }.joined(separator: ","),
             "\(n.busy)", n.rssKB > 0 ? "\(n.rssKB / 1024) MB" : "-", n.quiet ? "quiet" : "-",
             n.lastBeat.map { String(format: "%.1fs ago", max(0, now - $0)) } ?? "-", "\(n.inProgress)", n.expired ? "EXPIRED" : "live"]
        }
        for line in alignedColumns([["NODE", "PID", "QUEUES", "BUSY", "RSS", "QUIET", "LAST BEAT", "IN PROGRESS", "STATE"]] + rows) { print(line) }
    }
}

/// `verk quiet NODE` and `verk stop NODE`: the signals Sidekiq's Web UI sends (TSTP, TERM), pushed to every
/// live process of the node; its heartbeat picks them up within one beat.
struct NodeSignalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "signal", abstract: "", shouldDisplay: false)

    static func send(_ signal: String, to node: String, global: GlobalOptions) throws -> Int {
        let conn = try global.connect()
        let identities = (try conn.command("SMEMBERS", global.keys.processes).array ?? []).compactMap(\.string)
            .filter { $0.hasPrefix(node + ":") }
        guard !identities.isEmpty else {
            throw CLIError(description: "no live process of node '\(node)' (see `verk processes`)")
        }
        var commands: [RedisCommand] = []
        for identity in identities {
            commands += [RedisCommand("LPUSH", global.keys.signals(identity), signal), RedisCommand("EXPIRE", global.keys.signals(identity), 60)]
        }
        try conn.pipeline(commands)
        return identities.count
    }
}

struct QuietCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "quiet", abstract: "Quiet a node: it fetches no new jobs; running ones finish.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "Node id.") var node: String

    func run() throws {
        let n = try NodeSignalCommand.send("TSTP", to: node, global: global)
        print("quiet sent to \(node) (\(n) process\(n == 1 ? "" : "es")); it applies it at its next heartbeat")
    }
}

struct StopCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "stop", abstract: "Stop a node: it drains and exits.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "Node id.") var node: String

    func run() throws {
        let n = try NodeSignalCommand.send("TERM", to: node, global: global)
        print("stop sent to \(node) (\(n) process\(n == 1 ? "" : "es")); it drains and exits after its next heartbeat")
    }
}

struct RecoverCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "recover", abstract: "Put a dead node's in-progress jobs back on their queues now (refused for a live node).")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "Node id.") var node: String

    func run() throws {
        let conn = try global.connect()
        if let holder = try NodeLease.holder(conn, keys: global.keys, node: node) {
            throw CLIError(description: "node '\(node)' is live (its lease is held by \(holder)); refusing to take its jobs. Stop it with `verk stop \(node)`")
        }
        // Any beat counts: the operator says the node is dead, and its lapsed lease agrees.
        switch try NodeTakeover(keys: global.keys).takeOver(node, conn, cutoff: Timestamp.now() + 1) {
        case .tookOver(let jobs): print("recovered \(node): \(jobs) job\(jobs == 1 ? "" : "s") back on their queues")
        case .alive: throw CLIError(description: "node '\(node)' is not in the registry (already taken over, or never ran) or is live again")
        }
    }
}
