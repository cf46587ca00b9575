import ArgumentParser

struct VerkCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verk",
        abstract: "Operate Verk (and Sidekiq) job queues in Redis.",
        subcommands: [EnqueueCommand.self, StatsCommand.self, QueuesCommand.self, QueueCommand.self,
                      ProcessesCommand.self, QuietCommand.self, StopCommand.self, RecoverCommand.self,
                      SetCommand<ScheduledSet>.self, SetCommand<RetrySet>.self, SetCommand<DeadSet>.self,
                      BenchEnqueueCommand.self, BenchWaitCommand.self]
    )
}
