import ArgumentParser
import VerkShared

struct EnqueueCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "enqueue", abstract: "Enqueue a job; prints its jid.")

    @OptionGroup var global: GlobalOptions
    @Argument(help: "Queue name.") var queue: String
    @Argument(help: "Worker class name.") var className: String
    @Argument(help: "Job arguments as a JSON array, e.g. '[1, \"two\"]'.") var argsJSON: String = "[]"
    @Option(name: .customLong("in"), help: "Run after this many seconds.") var inSeconds: Double?
    @Option(help: "Run at this time (epoch seconds).") var at: Double?
    @Option(help: "Maximum number of retries for this job.") var retry: Int?

    func validate() throws {
        if inSeconds != nil && at != nil { throw ValidationError("give --in or --at, not both") }
        if queue.isEmpty { throw ValidationError("the queue name is empty") }
        if let retry, retry < 0 { throw ValidationError("--retry must be 0 or more") }
    }

    func run() throws {
        let args: [JSONValue]
        do {
            guard let array = try JSONParser.parse(argsJSON).arrayValue else {
                throw CLIError(description: "ARGS_JSON must be a JSON array, e.g. '[1, \"two\"]'; got '\(argsJSON)'")
            }
            args = array
        } catch let error as JSONError {
            throw CLIError(description: "ARGS_JSON is not valid JSON (\(error.reason) at byte \(error.offset)); expected an array such as '[1, \"two\"]'")
        }
        let job = Job(className: className, args: args, queue: queue, retry: retry.map(RetrySetting.limit) ?? .enabled)
        // The same push path as VerkClient and a running job's enqueue.
        print(try global.client().enqueue(job, at: inSeconds.map { Timestamp.now() + $0 } ?? at))
    }
}
