import Foundation
import VerkShared

/// The whole run: a private redis-server (AOF, `appendfsync always`), nodes `chaos-a` and `chaos-p` (the
/// latter in a network namespace of its own), the jobs pushed over 80% of the fault window, a seeded
/// schedule of faults over the window, then a drain until every job is accounted for or the deadline
/// passes, a clean stop of the nodes, and the accounting. Every loop is bounded; every process it
/// started is stopped by its pid, and the namespace is deleted, on every way out.
final class ChaosRun {
    struct Options {
        var seed: UInt64
        var jobs: Int
        var seconds: Double
        var drain: Double
        var poison: Int
        /// Threads of chaos-a's and chaos-p's `default` queue (chaos-b gets half).
        var concurrency: Int
        var demo: String
        var netns: String
        var workDir: String?
        var keep: Bool
    }

    private let options: Options
    private let started = Clock.now()
    private var work = ""
    private var partition: NetworkPartition?
    private var redis: RedisServer?
    private var ruby: RubyPusher?
    private var cluster: Cluster?
    private let done = Interrupt.Flag()

    init(_ options: Options) { self.options = options }

    private func say(_ line: String) {
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }

    /// The exit code: 0 when nothing was lost or stranded and nothing went wrong; 1 otherwise; 2 when the
    /// run could not be set up (no root, no network namespaces, no redis-server or ruby).
    func run() -> Int32 {
        Interrupt.install()
        var code: Int32 = 2
        do {
            code = try runChecked()
        } catch ChaosError.interrupted {
            say("chaos: interrupted; cleaning up")
            code = 130
        } catch {
            say("chaos: \(error)")
            say("chaos: logs are in \(work)")
        }
        cleanUp(removeWork: code == 0 && !options.keep)
        return code
    }

    private func runChecked() throws -> Int32 {
        work = options.workDir ?? (NSTemporaryDirectory() + "verk-chaos-\(getpid())")
        try FileManager.default.createDirectory(atPath: work + "/nodes", withIntermediateDirectories: true)
        guard FileManager.default.isExecutableFile(atPath: options.demo) else { throw ChaosError.setup("no verk-demo at \(options.demo)") }
        var random = SeededRandom(seed: options.seed)
        var scheduleRandom = random.fork(), jobRandom = random.fork()

        let partition = try NetworkPartition(namespace: options.netns, scratch: work)
        self.partition = partition
        do { try partition.create() } catch {
            throw ChaosError.setup("cannot make the network namespace for the partition (the chaos run needs root and `ip netns`): \(error)")
        }
        let redis = try RedisServer(addresses: ["127.0.0.1", partition.hostAddress], directory: work + "/redis")
        self.redis = redis
        let ruby = try RubyPusher(redisURL: redis.url, log: work + "/ruby.log")
        self.ruby = ruby
        try ruby.ping()
        let cluster = Cluster(redis: redis, partition: partition, concurrency: options.concurrency, demo: options.demo, root: work + "/nodes", say: say)
        self.cluster = cluster
        try cluster.start(cluster.a)
        try cluster.start(cluster.p)
        guard try cluster.waitServing(cluster.a) else { throw ChaosError.setup("chaos-a did not start: \(cluster.a.log().suffix(800))") }
        guard try cluster.waitServing(cluster.p) else {
            throw ChaosError.setup("chaos-p, in namespace \(partition.namespace), did not reach Redis at \(partition.hostAddress):\(redis.port): \(cluster.p.log().suffix(800))")
        }

        let stream = try JobStream(total: options.jobs, poison: options.poison, duration: options.seconds * 0.8, ruby: ruby,
                                   redisURL: redis.url, random: &jobRandom)
        let plan = FaultSchedule.make(window: options.seconds, random: &scheduleRandom)
        say("chaos: seed \(options.seed), \(options.jobs) RecordWorker jobs + \(options.poison) poison over \(Int(options.seconds * 0.8)) s, "
            + "\(plan.count) faults planned over \(Int(options.seconds)) s; Redis 127.0.0.1:\(redis.port) (AOF, appendfsync always), "
            + "chaos-p in netns \(partition.namespace) via \(partition.nodeAddress) → \(partition.hostAddress); work dir \(work)")
        let done = self.done
        let timeline = cluster.timeline
        let monitor = Thread {
            for _ in 0..<10_000_000 where !done.isSet {
                timeline.sample()
                usleep(50_000)
            }
        }
        monitor.start()
        let pusher = Thread { stream.run(stop: { done.isSet || Interrupt.requested }) }
        pusher.start()

        let injector = FaultInjector(cluster: cluster, stream: stream, started: started, say: say)
        try injector.run(plan, windowEnd: Clock.now() + options.seconds) { FaultSchedule.extra(random: &scheduleRandom) }
        let pushDeadline = Clock.now() + options.seconds + 60
        while !stream.isFinished && Clock.now() < pushDeadline { try cluster.pause(0.1) }

        let (accounted, retriedNow) = try drain(cluster: cluster, stream: stream, redis: redis)
        done.set()
        timeline.sample()
        var stopFailures: [String] = []
        for node in cluster.nodes where node.isRunning {
            node.wanted = false
            node.process?.signal(SIGTERM)
        }
        for node in cluster.nodes {
            guard let process = node.process, node.incarnations.count > 0 else { continue }
            if process.exitStatus == nil, process.wait(timeout: 20) == nil {
                stopFailures.append("\(cluster.label(node)) did not stop within 20 s of SIGTERM")
                process.signal(SIGKILL)
                process.wait(timeout: 5)
            }
        }
        let final = try RedisConnection(url: redis.url, name: "verk-chaos")
        let incarnations = cluster.nodes.flatMap { node in node.incarnations.map { ("\(node.id).\($0.number)", $0.records) } }
        let accounting = try Accounting.settle(pushed: stream.snapshot, incarnations: incarnations, redis: final)
        let (causes, unexplained) = DuplicateCauses.attribute(accounting.duplicates, faults: injector.records, crashes: timeline.crashes,
                                                              timeline: timeline, origin: started)
        let report = Report(pushed: stream.snapshot, accounting: accounting, causes: causes, unexplained: unexplained, faults: injector.records,
                            crashes: timeline.crashes, orphanLifetimes: injector.orphanLifetimes, orphanEnds: injector.orphanEnds,
                            failures: injector.failures + stopFailures + (accounted ? [] : ["not every job was accounted for within the drain deadline"]),
                            unexpectedExits: cluster.unexpectedExits, retriedNow: retriedNow, seconds: Clock.now() - started)
        report.print(say)
        return report.passed ? 0 : 1
    }

    /// After the faults: until every pushed job is recorded (and every poison job is dead) or the deadline.
    /// Jobs that went to the retry set (charged with a kill -9 the driver dealt) are retried now, as an
    /// operator would, rather than after Sidekiq's backoff (15 s and up).
    private func drain(cluster: Cluster, stream: JobStream, redis: RedisServer) throws -> (accounted: Bool, retriedNow: Int) {
        let deadline = Clock.now() + options.drain
        let tally = RecordTally()
        let pushed = stream.snapshot
        let expected = Set(pushed.record)
        let poison = Set(pushed.poison)
        var retriedNow = 0
        var lastRetry = 0.0
        let connection = try RedisConnection(url: redis.url, name: "verk-chaos-drain")
        while Clock.now() < deadline {
            tally.update(files: cluster.nodes.flatMap { $0.incarnations.map(\.records) })
            if Clock.now() - lastRetry >= 2 {
                lastRetry = Clock.now()
                let retries = JobSet(.retries, keys: KeySpace())
                for entry in try retries.list(connection, limit: 1000) {
                    if try retries.enqueueNow(connection, entry) { retriedNow += 1 }
                }
            }
            if expected.isSubset(of: tally.seen) {
                let dead = try Accounting.deadJobs(connection)
                if poison.allSatisfy({ dead[$0] != nil }) { return (true, retriedNow) }
            }
            try cluster.pause(0.5)
        }
        return (false, retriedNow)
    }

    private func cleanUp(removeWork: Bool) {
        done.set()
        ruby?.stop()
        for node in cluster?.nodes ?? [] {
            node.wanted = false
            node.process?.stop(grace: 10)
        }
        redis?.stop()
        partition?.destroy()
        if removeWork && !work.isEmpty { try? FileManager.default.removeItem(atPath: work) }
    }
}
