import ArgumentParser
import VerkShared

/// `verk queue add|remove|reset|pause|resume`: runtime queue control through Redis (`QueueControl`).
/// Nodes apply a command within one poll of their watcher; commands survive restarts.
struct QueueCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "queue",
        abstract: "Add, remove, pause or resume a queue on running nodes.",
        subcommands: [QueueAdd.self, QueueRemove.self, QueueReset.self, QueuePause.self, QueueResume.self]
    )
}

/// Who a command is for, as the confirmation line says it.
private func target(_ node: String?) -> String { node.map { "on node \($0)" } ?? "on every node" }

struct QueueAdd: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add", abstract: "Run a queue (or change its concurrency) on every node, or on one with --node.")

    @OptionGroup var global: GlobalOptions
    @Argument(help: "Queue name.") var name: String
    @Argument(help: "Jobs run at once in the queue's worker process (1 to 1000).") var concurrency: Int
    @Option(help: "Only this node id (default: every node, including nodes started later).") var node: String?

    func run() throws {
        try QueueControl(redis: try global.connect(), keys: global.keys).addQueue(name, concurrency: concurrency, node: node)
        print("added queue \(name) with concurrency \(concurrency) \(target(node))")
    }
}

struct QueueRemove: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "remove", abstract: "Stop running a queue on every node, or on one with --node (its jobs stay queued).")

    @OptionGroup var global: GlobalOptions
    @Argument(help: "Queue name.") var name: String
    @Option(help: "Only this node id (default: every node, including nodes started later).") var node: String?

    func run() throws {
        try QueueControl(redis: try global.connect(), keys: global.keys).removeQueue(name, node: node)
        print("removed queue \(name) \(target(node))")
    }
}

struct QueueReset: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reset", abstract: "Forget runtime adds and removes of a queue: the configuration decides again.")

    @OptionGroup var global: GlobalOptions
    @Argument(help: "Queue name.") var name: String
    @Option(help: "Only this node's own entry (default: the fleet-wide entry and every node's).") var node: String?

    func run() throws {
        try QueueControl(redis: try global.connect(), keys: global.keys).resetQueue(name, node: node)
        print("reset queue \(name) to its configuration \(target(node))")
    }
}

struct QueuePause: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pause", abstract: "Stop fetching from a queue on every node; enqueues are still accepted.")

    @OptionGroup var global: GlobalOptions
    @Argument(help: "Queue name.") var name: String

    func run() throws {
        try QueueControl(redis: try global.connect(), keys: global.keys).pause(name)
        print("paused queue \(name) on every node")
    }
}

struct QueueResume: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "resume", abstract: "Fetch from a paused queue again.")

    @OptionGroup var global: GlobalOptions
    @Argument(help: "Queue name.") var name: String

    func run() throws {
        try QueueControl(redis: try global.connect(), keys: global.keys).resume(name)
        print("resumed queue \(name) on every node")
    }
}
