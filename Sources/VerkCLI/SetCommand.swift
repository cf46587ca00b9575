import ArgumentParser
import VerkShared

/// Which sorted set a `SetCommand` acts on.
protocol SetKindName {
    static var kind: JobSet.Kind { get }
    static var commandName: String { get }
}
enum ScheduledSet: SetKindName { static let kind = JobSet.Kind.scheduled; static let commandName = "scheduled" }
enum RetrySet: SetKindName { static let kind = JobSet.Kind.retries; static let commandName = "retries" }
enum DeadSet: SetKindName { static let kind = JobSet.Kind.dead; static let commandName = "dead" }

/// `verk scheduled|retries list|retry|delete|kill|clear` and `verk dead list|retry|delete|clear`: the actions
/// Sidekiq's API offers on each set. `kill` moves a job to the dead set, so the dead set does not offer it
/// (typed anyway, it is refused saying so).
struct SetCommand<Kind: SetKindName>: ParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(
            commandName: Kind.commandName,
            abstract: "Inspect and act on the \(Kind.commandName) set.",
            subcommands: [SetList<Kind>.self, SetRetry<Kind>.self, SetDelete<Kind>.self, SetKill<Kind>.self, SetClear<Kind>.self],
            defaultSubcommand: SetList<Kind>.self
        )
    }
}

struct SetList<Kind: SetKindName>: ParsableCommand {
    static var configuration: CommandConfiguration { CommandConfiguration(commandName: "list", abstract: "List jobs.") }

    @OptionGroup var global: GlobalOptions
    @Flag(help: "Print a JSON array.") var json = false
    @Option(help: "At most this many jobs (0 lists none).") var limit = 100

    func validate() throws {
        if limit < 0 { throw ValidationError("--limit must be 0 or more (it is how many jobs to list)") }
    }

    func run() throws {
        let set = JobSet(Kind.kind, keys: global.keys)
        let entries = try set.list(try global.connect(), limit: limit)
        if json {
            printJSON(.array(entries.map { e in
                ["score": .double(e.score), "jid": e.jid.map(JSONValue.string) ?? .null,
                 "job": e.job.map { .object($0.fields) } ?? .string(String(decoding: e.member, as: UTF8.self))]
            }))
            return
        }
        for e in entries {
            let job = e.job
            var line = "\(formatTime(e.score))  \(e.jid ?? "-")  \(job?.className ?? "(invalid payload)")  queue=\(job?.queue ?? "-")"
            if let count = job?.retryCount { line += "  retry_count=\(count)" }
            if let ec = job?.errorClass { line += "  \(ec): \(job?.errorMessage ?? "")" }
            print(line)
        }
    }
}

/// Which action a by-jid command performs.
enum SetJobAction: String { case retry, delete, kill }

protocol SetJobCommand: ParsableCommand {
    associatedtype Kind: SetKindName
    static var action: SetJobAction { get }
    var global: GlobalOptions { get }
    var jid: String { get }
}

extension SetJobCommand {
    func run() throws {
        let conn = try global.connect()
        let set = JobSet(Kind.kind, keys: global.keys, policy: RetryPolicy(timestamps: try global.timestamps()))
        guard let entry = try set.find(conn, jid: jid) else {
            throw CLIError(description: "no job with jid \(jid) in the \(Kind.commandName) set")
        }
        let done: Bool
        switch Self.action {
        case .retry:
            try Self.checkRunnable(entry, jid: jid)
            done = try set.enqueueNow(conn, entry)
        case .delete: done = try set.delete(conn, entry)
        case .kill: done = try set.kill(conn, entry)
        }
        guard done else { throw CLIError(description: "job \(jid) left the \(Kind.commandName) set before it could be changed") }
        print("\(Self.action.rawValue): \(jid)")
    }
}

extension SetJobCommand {
    /// Refuses to enqueue what cannot run, saying why and what to do instead.
    static func checkRunnable(_ entry: JobSet.Entry, jid: String) throws {
        guard let job = entry.job else {
            throw CLIError(description: "job \(jid) in the \(Kind.commandName) set is not a valid job and cannot be enqueued; delete it")
        }
        if ParkedPayload.isParked(job) {
            throw CLIError(description: "job \(jid) is an invalid payload parked in the dead set and cannot run as it is: its original is in "
                + "\(ParkedPayload.textField) (or \(ParkedPayload.base64Field)); fix it, push it again, then `verk dead delete \(jid)`")
        }
        do { _ = try job.pushQueue() } catch { throw CLIError(description: "job \(jid) cannot be enqueued: \(error)") }
    }
}

struct SetRetry<Kind: SetKindName>: SetJobCommand {
    static var configuration: CommandConfiguration { CommandConfiguration(commandName: "retry", abstract: "Enqueue the job now.") }
    static var action: SetJobAction { .retry }
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The job's jid.") var jid: String
}

struct SetDelete<Kind: SetKindName>: SetJobCommand {
    static var configuration: CommandConfiguration { CommandConfiguration(commandName: "delete", abstract: "Delete the job.") }
    static var action: SetJobAction { .delete }
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The job's jid.") var jid: String
}

struct SetKill<Kind: SetKindName>: SetJobCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(commandName: "kill", abstract: "Move the job to the dead set.", shouldDisplay: Kind.kind != .dead)
    }
    static var action: SetJobAction { .kill }
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The job's jid.") var jid: String

    func validate() throws {
        if Kind.kind == .dead {
            throw ValidationError("jobs in the dead set are dead already: verk dead offers list, retry, delete and clear")
        }
    }
}

struct SetClear<Kind: SetKindName>: ParsableCommand {
    static var configuration: CommandConfiguration { CommandConfiguration(commandName: "clear", abstract: "Remove every job.") }

    @OptionGroup var global: GlobalOptions

    func run() throws {
        let n = try JobSet(Kind.kind, keys: global.keys).clear(try global.connect())
        print("cleared \(n)")
    }
}
