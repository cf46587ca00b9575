import Foundation
import Testing
import VerkShared

@Suite(.serialized) struct SupervisorTests {
    @Test func jobsPushedBySidekiqClientRunAndFailuresShowInSidekiqRetryAndDeadSets() throws {
        let ns = TestRedis.freshNamespace()
        let file = RecordFile()
        defer { file.remove() }
        let node = try DemoNode(namespace: ns, queues: ["default:4"])
        _ = try Sidekiq.run("""
            Sidekiq::Client.push('class' => 'RecordWorker', 'args' => ['\(file.path)', 'from-ruby'], 'queue' => 'default')
            Sidekiq::Client.push('class' => 'FailWorker', 'args' => ['it broke'], 'queue' => 'default', 'retry' => 1, 'backtrace' => true)
            """, namespace: ns)
        try eventually("the Ruby-pushed RecordWorker job to run") { file.counts().count == 1 }
        // FailWorker retries at failed_at + retry_count: first retry at once, then dead after the second failure.
        try eventually("the failing job to reach the dead set") {
            try TestRedis.connection().command("ZCARD", KeySpace(namespace: ns).dead).int == 1
        }
        let seen = try Sidekiq.json("""
            d = Sidekiq::DeadSet.new.first
            puts JSON.generate({klass: d.klass, error_class: d['error_class'], error_message: d['error_message'],
              retry_count: d['retry_count'], failed_at: d['failed_at'].is_a?(Float), retried_at: d['retried_at'].is_a?(Float),
              backtrace: d.error_backtrace, retries: Sidekiq::RetrySet.new.size, processed: Sidekiq::Stats.new.processed,
              failed: Sidekiq::Stats.new.failed, queue: d.queue})
            """, namespace: ns)
        #expect(seen["klass"] == "FailWorker")
        #expect(seen["error_class"] == "VerkDemo.FailWorker.Failure")
        #expect(seen["error_message"] == "it broke")
        #expect(seen["retry_count"] == 1 && seen["failed_at"] == true && seen["retried_at"] == true)
        #expect(seen["backtrace"]?.arrayValue?.isEmpty == false, "Sidekiq decodes our error_backtrace")
        #expect(seen["retries"] == 0 && seen["processed"] == 3 && seen["failed"] == 2 && seen["queue"] == "default")
        #expect(node.stop() == 0)
    }

    @Test func failingJobWaitsInSidekiqRetrySetWithSidekiqsFields() throws {
        let ns = TestRedis.freshNamespace()
        let node = try DemoNode(namespace: ns, queues: ["default:2"])
        let client = try VerkClient(url: TestRedis.url, namespace: ns)
        // An unknown class and undecodable args are normal failures: parked with a precise reason.
        try client.enqueue("NoSuchWorker", args: [1])
        try client.enqueue(Job(className: "SleepWorker", args: ["not-a-number"]))  // decodes fine: [JSONValue]
        try eventually("the unknown class to be parked in retry") {
            try TestRedis.connection().command("ZCARD", KeySpace(namespace: ns).retry).int == 1
        }
        let seen = try Sidekiq.json("""
            r = Sidekiq::RetrySet.new.first
            puts JSON.generate({klass: r.klass, error_class: r['error_class'], msg: r['error_message'], rc: r['retry_count'],
              in: (r.at.to_f - Time.now.to_f).round, failed_at: r['failed_at'].is_a?(Float)})
            """, namespace: ns)
        #expect(seen["klass"] == "NoSuchWorker" && seen["error_class"] == "Verk.UnknownWorker" && seen["rc"] == 0)
        #expect(seen["msg"]?.stringValue?.contains("no worker is registered for class 'NoSuchWorker'") == true)
        #expect((5...25).contains(seen["in"]?.intValue ?? -1), "Sidekiq backoff for count 0 is 15–24 s")
        #expect(node.stop() == 0)
    }

    @Test func crashingJobDoesNotStopOtherQueues() throws {
        let ns = TestRedis.freshNamespace()
        let file = RecordFile()
        defer { file.remove() }
        let node = try DemoNode(namespace: ns, queues: ["crashy:2", "busy:8"])
        let client = try VerkClient(url: TestRedis.url, namespace: ns)
        let firstCrashyPID = try #require(node.latestPID("crashy"))
        let busyPID = try #require(node.latestPID("busy"))
        let jids = try enqueueRecords(client, file: file, count: 1000, queue: "busy")
        try client.enqueue(Job(className: "CrashWorker", args: [], queue: "crashy", retry: .limit(5)))
        try eventually("all 1,000 jobs of the other queue to be recorded") { file.counts().count == 1000 }
        try eventually("the crashed worker process to be replaced") { node.latestPID("crashy") != firstCrashyPID }
        let counts = file.counts()
        #expect(Set(counts.keys) == Set(jids))
        #expect(counts.values.allSatisfy { $0 == 1 }, "every job of the other queue recorded exactly once")
        #expect(node.latestPID("busy") == busyPID, "the other queue's worker process was never restarted")
        #expect(node.isAlive)
        // Its first retry is immediate (the demo's retry_at), so catch it in the retry set as it passes through.
        let retries = JobSet(.retries, keys: KeySpace(namespace: ns))
        var crashed: Job?
        try eventually("the crashed job to be in the retry set") {
            crashed = try retries.list(TestRedis.connection(), limit: 1).first?.job
            return crashed != nil
        }
        #expect(crashed?.className == "CrashWorker" && crashed?.errorClass == "Verk.ProcessCrashed")
        #expect(crashed?.errorMessage?.contains("SIGSEGV") == true)
        #expect(crashed?.failedAt != nil && crashed?.retryCount != nil)
        #expect(node.stop() == 0)
    }

    /// Other ways a job can take its worker process down: Swift's `fatalError`, and garbage written to the
    /// supervisor's socket (which must stop and replace the process, never crash itself).
    @Test(arguments: [("fatalError", "killed by signal"), ("garbage", "sent an invalid frame")])
    func aJobThatBreaksItsProcessIsContainedAndTheProcessReplaced(_ how: String, _ expectedMessage: String) throws {
        let ns = TestRedis.freshNamespace()
        let dead = JobSet(.dead, keys: KeySpace(namespace: ns))
        let node = try DemoNode(namespace: ns, queues: ["default:2"])
        let first = try #require(node.latestPID("default"))
        let client = try VerkClient(url: TestRedis.url, namespace: ns)
        let jid = try client.enqueue(Job(className: "CrashWorker", args: [.string(how)], queue: "default", retry: .limit(0)))
        try eventually("the job to reach dead") { try dead.find(TestRedis.connection(), jid: jid) != nil }
        let job = try #require(try dead.find(TestRedis.connection(), jid: jid)?.job)
        #expect(job.errorClass == "Verk.ProcessCrashed")
        #expect(job.errorMessage?.contains(expectedMessage) == true, "\(job.errorMessage ?? "")")
        try eventually("a replacement worker process") { node.latestPID("default") != first }
        #expect(node.isAlive && node.stop() == 0)
    }

    @Test func aJobPastItsHardTimeoutFailsAsTimeoutAndItsProcessIsReplaced() throws {
        let ns = TestRedis.freshNamespace()
        let keys = KeySpace(namespace: ns)
        let file = RecordFile()
        defer { file.remove() }
        let node = try DemoNode(namespace: ns, queues: ["default:2"])
        let first = try #require(node.latestPID("default"))
        let client = try VerkClient(url: TestRedis.url, namespace: ns)
        var hang = Job(className: "HangWorker", args: [], queue: "default", retry: .limit(0))
        hang["timeout"] = 0.5
        let hangJID = try client.enqueue(hang)
        let neighbour = try client.enqueue(Job(className: "RecordWorker", args: [.string(file.path), 0, 2000], queue: "default", retry: .limit(0)))
        try eventually("the timed-out job to be dead") { try TestRedis.connection().command("ZCARD", keys.dead).int == 1 }
        let dead = JobSet(.dead, keys: keys)
        let conn = try TestRedis.connection()
        let timedOut = try #require(try dead.find(conn, jid: hangJID)?.job)
        #expect(timedOut.errorClass == "Verk.Timeout" && timedOut.errorMessage?.contains("0.5 s timeout") == true)
        // Its neighbour was a suspect, not charged: re-run in quarantine, it completes.
        try eventually("the neighbour to complete in quarantine") { file.counts()[neighbour] == 1 }
        #expect(try dead.find(conn, jid: neighbour) == nil && (try conn.command("ZCARD", keys.retry).int) == 0)
        #expect(node.process.stderr.contains("role=quarantine"))
        try eventually("a replacement worker process") { node.latestPID("default") != first }
        let after = try enqueueRecords(client, file: file, count: 5, queue: "default")
        try eventually("the queue to keep serving") { Set(after).isSubset(of: Set(file.counts().keys)) }
        #expect(node.stop() == 0)
    }

    @Test func aWorkerProcessOverItsMemoryLimitIsDrainedAndReplacedWithoutFailingJobs() throws {
        let ns = TestRedis.freshNamespace()
        let keys = KeySpace(namespace: ns)
        let file = RecordFile()
        defer { file.remove() }
        let node = try DemoNode(namespace: ns, queues: ["default:1"], extraEnv: ["VERK_WORKER_MEMORY_LIMIT": "64"])
        let first = try #require(node.latestPID("default"))
        let client = try VerkClient(url: TestRedis.url, namespace: ns)
        try client.enqueue("AllocWorker", args: [100])
        try eventually("the worker process to be replaced") { node.latestPID("default") != first }
        let conn = try TestRedis.connection()
        #expect(try conn.command("GET", keys.processed).int == 1)
        #expect(try conn.command("GET", keys.failed).int ?? 0 == 0, "recycling fails no job")
        #expect(node.process.stderr.contains("over its memory limit"))
        let after = try enqueueRecords(client, file: file, count: 5, queue: "default")
        try eventually("the new worker process to serve the queue") { Set(file.counts().keys) == Set(after) }
        #expect(node.stop() == 0)
    }

    /// The supervisor itself is killed: its worker processes die with it (PR_SET_PDEATHSIG), the jobs
    /// they held stay in Redis in this node's in-progress list, and the same node id runs them at its next start.
    @Test func killMinus9OfTheSupervisorLosesNoJobAndTheSameNodeRecoversThem() throws {
        let ns = TestRedis.freshNamespace()
        let keys = KeySpace(namespace: ns)
        let file = RecordFile()
        defer { file.remove() }
        let node = try DemoNode(namespace: ns, queues: ["default:3"], nodeID: "pod-kill")
        let child = try #require(node.latestPID("default"))
        let client = try VerkClient(url: TestRedis.url, namespace: ns)
        try client.enqueue(many: (0..<3).map { _ in Job(className: "HangWorker", args: []) })
        let conn = try TestRedis.connection()
        let inProgress = keys.inProgress(queue: "default", node: "pod-kill")
        try eventually("the three jobs to be in progress") { try conn.command("LLEN", inProgress).int == 3 }
        node.process.signal(SIGKILL)
        node.process.wait()
        try eventually("the worker process to die with its supervisor") { kill(child, 0) != 0 }
        #expect(try conn.command("LLEN", inProgress).int == 3, "the jobs are still in Redis")
        let again = try DemoNode(namespace: ns, queues: ["default:3"], nodeID: "pod-kill", shutdownTimeout: 1)
        try eventually("the restarted node to take its jobs back") { try conn.command("LLEN", inProgress).int == 3 && again.process.stderr.contains("recovered in-progress jobs") }
        #expect(again.process.stderr.contains("count=3"))
        #expect(again.stop() == 0)
        #expect(try conn.command("LLEN", keys.queue("default")).int == 3, "unfinished at shutdown: back in the queue")
    }

    @Test func poisonJobEndsInDeadWhileTheQueueKeepsServing() throws {
        let ns = TestRedis.freshNamespace()
        let file = RecordFile()
        defer { file.remove() }
        // Concurrency 1: the crash takes down only the poison job; prefetched jobs go back unstarted.
        let node = try DemoNode(namespace: ns, queues: ["default:1"])
        let client = try VerkClient(url: TestRedis.url, namespace: ns)
        let before = try enqueueRecords(client, file: file, count: 50, queue: "default")
        let poison = try client.enqueue(Job(className: "CrashWorker", args: [], queue: "default", retry: .limit(2)))
        let after = try enqueueRecords(client, file: file, count: 50, queue: "default")
        try eventually("the poison job to reach the dead set") {
            try JobSet(.dead, keys: KeySpace(namespace: ns)).find(TestRedis.connection(), jid: poison) != nil
        }
        try eventually("every other job to run") { file.counts().count == 100 }
        #expect(Set(file.counts().keys) == Set(before + after))
        #expect(file.counts().values.allSatisfy { $0 == 1 })
        let dead = try #require(try JobSet(.dead, keys: KeySpace(namespace: ns)).find(TestRedis.connection(), jid: poison)?.job)
        #expect(dead.retryCount == 2 && dead.errorClass == "Verk.ProcessCrashed")
        try eventually("a restart after each of the 3 crashes") { node.workerPIDs().filter { $0.queue == "default" }.count == 4 }
        #expect(node.stop() == 0)
    }

    @Test func killMinus9OfAChildLosesNoJob() throws {
        let ns = TestRedis.freshNamespace()
        let keys = KeySpace(namespace: ns)
        let file = RecordFile()
        defer { file.remove() }
        let node = try DemoNode(namespace: ns, queues: ["default:10"])
        let client = try VerkClient(url: TestRedis.url, namespace: ns)
        let jids = try enqueueRecords(client, file: file, count: 5000, queue: "default")
        let pid = try #require(node.latestPID("default"))
        try eventually("the run to be under way") { file.counts().count >= 500 }
        kill(pid, SIGKILL)
        try eventually("a new worker process") { node.latestPID("default") != pid }
        // Jobs running at the kill went to retry (Verk.ProcessCrashed); an operator's "retry now" runs them.
        let conn = try TestRedis.connection()
        try eventually("the queue to drain") {
            try conn.command("LLEN", keys.queue("default")).int == 0
                && conn.command("LLEN", keys.inProgress(queue: "default", node: node.nodeID)).int == 0
        }
        let retries = JobSet(.retries, keys: keys)
        for entry in try retries.list(conn, limit: 1000) {
            #expect(entry.job?.errorClass == "Verk.ProcessCrashed")
            try retries.enqueueNow(conn, entry)
        }
        try eventually("every jid to be recorded") { Set(file.counts().keys) == Set(jids) }
        #expect(node.stop() == 0)
    }

    @Test func sigtermDrainsExitsZeroAndLosesNoJob() throws {
        let ns = TestRedis.freshNamespace()
        let keys = KeySpace(namespace: ns)
        let file = RecordFile()
        defer { file.remove() }
        let node = try DemoNode(namespace: ns, queues: ["default:4"], shutdownTimeout: 2)
        let client = try VerkClient(url: TestRedis.url, namespace: ns)
        let hang = try client.enqueue(Job(className: "HangWorker", args: [], queue: "default"))
        let jids = try client.enqueue(many: (0..<400).map { i in
            Job(className: i % 2 == 0 ? "RecordWorker" : "SleepWorker", args: i % 2 == 0 ? [.string(file.path), .int(i)] : [20])
        })
        try eventually("the run to be under way") { file.counts().count >= 20 }
        let start = Date()
        let code = node.stop()
        let took = Date().timeIntervalSince(start)
        #expect(code == 0)
        #expect(took < 2 + 3, "exit within the 2 s shutdown timeout (plus process teardown): took \(took)")
        let conn = try TestRedis.connection()
        #expect(try conn.command("LLEN", keys.inProgress(queue: "default", node: node.nodeID)).int == 0, "nothing left in progress")
        let queued = Set((try conn.command("LRANGE", keys.queue("default"), 0, -1).array ?? []).compactMap { try? Job(parsing: $0.bytes ?? []).jid })
        #expect(queued.contains(hang), "the job that did not finish is back in its queue")
        let processed = try conn.command("GET", keys.processed).int ?? 0
        #expect(processed + queued.count == 401, "every job either ran or is back in the queue: \(processed) + \(queued.count)")
        let recorded = Set(file.counts().keys)
        for (i, jid) in jids.enumerated() where i % 2 == 0 {
            #expect(recorded.contains(jid) || queued.contains(jid))
        }
    }

    @Test func leftoverInProgressJobsOfThisNodeGoBackAtStart() throws {
        let ns = TestRedis.freshNamespace()
        let keys = KeySpace(namespace: ns)
        let file = RecordFile()
        defer { file.remove() }
        let conn = try TestRedis.connection()
        var job = Job(className: "RecordWorker", args: [.string(file.path), "leftover"])
        JobPush.normalize(&job, now: Timestamp.now())
        try conn.command("LPUSH", keys.inProgress(queue: "default", node: "pod-7"), job.encoded())
        let node = try DemoNode(namespace: ns, queues: ["default:2"], nodeID: "pod-7")
        try eventually("the leftover job to run") { file.counts()[job.jid!] == 1 }
        #expect(node.stop() == 0)
    }

    @Test func scheduledAndRetriedJobsRunWhenDueAndNeverTwiceWithTwoSupervisors() throws {
        let ns = TestRedis.freshNamespace()
        let keys = KeySpace(namespace: ns)
        let file = RecordFile()
        defer { file.remove() }
        let a = try DemoNode(namespace: ns, queues: ["default:5"], pollInterval: 0.05)
        let b = try DemoNode(namespace: ns, queues: ["default:5"], pollInterval: 0.05)
        let client = try VerkClient(url: TestRedis.url, namespace: ns)
        let due = Timestamp.now() + 1.5
        let scheduled = try client.enqueue(many: (0..<200).map { Job(className: "RecordWorker", args: [.string(file.path), .int($0)]) }, at: due)
        let conn = try TestRedis.connection()
        var retried: [String] = []
        for i in 0..<100 {
            var job = Job(className: "RecordWorker", args: [.string(file.path), .int(1000 + i)])
            JobPush.normalize(&job, now: Timestamp.now())
            job.retryCount = 0
            job.failedAt = Timestamp.now()
            try conn.command("ZADD", keys.retry, due, job.encoded())
            retried.append(job.jid!)
        }
        #expect(file.counts().isEmpty)
        try eventually("all 300 due jobs to run") { file.counts().count == 300 }
        #expect(Timestamp.now() >= due, "nothing ran before it was due")
        #expect(Set(file.counts().keys) == Set(scheduled + retried))
        #expect(file.counts().values.allSatisfy { $0 == 1 }, "never twice, with two supervisors polling")
        #expect(try conn.command("ZCARD", keys.schedule).int == 0 && conn.command("ZCARD", keys.retry).int == 0)
        #expect(a.stop() == 0 && b.stop() == 0)
    }

    @Test func aRunningJobEnqueuesThroughItsParent() throws {
        let ns = TestRedis.freshNamespace()
        let file = RecordFile()
        defer { file.remove() }
        let node = try DemoNode(namespace: ns, queues: ["default:2", "other:2"])
        let client = try VerkClient(url: TestRedis.url, namespace: ns)
        try client.enqueue("EnqueueWorker", args: ["other", "RecordWorker", [.string(file.path), "child"]])
        try eventually("the enqueued job to run on the other queue") { file.counts().count == 1 }
        #expect(node.stop() == 0)
    }

    @Test func invalidConfigurationIsRefusedAtStart() throws {
        let result = try runProcess(Binaries.demo, ["--queue", "bad name:2"], env: ["VERK_REDIS_URL": TestRedis.url])
        #expect(result.status == 78)
        #expect(result.stderr.contains("letters, digits"))
        let unreachable = try runProcess(Binaries.demo, ["--redis-url", "redis://u:hunter2@127.0.0.1:1/0"], env: [:])
        #expect(unreachable.status == 1)
        #expect(unreachable.stderr.contains("cannot connect to Redis at 127.0.0.1:1") && !unreachable.stderr.contains("hunter2"))
        // A bad variable reaches Verk.main's overlay of the environment: one line, no crash.
        let badVariable = try runProcess(Binaries.demo, [], env: ["VERK_REDIS_URL": TestRedis.url, "VERK_SHUTDOWN_TIMEOUT": "abc"])
        #expect(badVariable.status == 78)
        #expect(badVariable.stderr.split(separator: "\n")
                == ["verk: invalid configuration shutdown_timeout = 'abc': expected seconds (from VERK_SHUTDOWN_TIMEOUT)"])
    }

    /// VERK_LOG_LEVEL is the level of both roles' log: at debug the worker process's debug line shows, at
    /// warning the supervisor's info lines do not.
    @Test func logLevelFromTheEnvironmentIsTheNodesLogLevel() throws {
        let ns = TestRedis.freshNamespace()
        let verbose = try DemoNode(namespace: ns, queues: ["default:1"], extraEnv: ["VERK_LOG_LEVEL": "debug"])
        try eventually("the worker process's debug line") {
            verbose.process.stderr.split(separator: "\n").contains { $0.contains(" debug ") && $0.contains("worker process ready") }
        }
        #expect(verbose.stop() == 0)

        // Not a DemoNode: it waits for info lines, which this node does not write. A job that runs shows it is up.
        let file = RecordFile()
        defer { file.remove() }
        let quiet = try Spawned(Binaries.demo, ["--queue", "default:1", "--node-id", "quiet-" + JobID.generate().prefix(6)], env: [
            "VERK_REDIS_URL": TestRedis.url, "VERK_NAMESPACE": ns, "VERK_LOG_LEVEL": "warning",
        ])
        _ = try enqueueRecords(VerkClient(url: TestRedis.url, namespace: ns), file: file, count: 1, queue: "default")
        try eventually("the quiet node to run a job") { file.counts().count == 1 }
        quiet.signal(SIGTERM)
        #expect(quiet.wait() == 0)
        #expect(!quiet.stderr.contains("supervisor started") && !quiet.stderr.contains(" info "), "stderr: \(quiet.stderr)")
    }
}

@Suite(.serialized) struct RedisOutageTests {
    /// Redis (with AOF, so its data survives) restarts in the middle of a run: the node reconnects, every
    /// job runs at least once, none is stranded in progress, and the node still stops cleanly.
    @Test func aRedisRestartMidRunLosesNoJob() throws {
        let redis = try PrivateRedis(extraArgs: ["--appendonly", "yes", "--appendfsync", "always"])
        let ns = TestRedis.freshNamespace()
        let keys = KeySpace(namespace: ns)
        let file = RecordFile()
        defer { file.remove() }
        let node = try DemoNode(namespace: ns, queues: ["default:8"], redisURL: redis.url)
        let client = try VerkClient(url: redis.url, namespace: ns)
        let jids = try enqueueRecords(client, file: file, count: 3000, queue: "default")
        try eventually("the run to be under way") { file.counts().count >= 300 }
        redis.stop()
        let recordedWhileDown = file.counts().count
        try redis.start()
        #expect(recordedWhileDown < 3000, "Redis went away in the middle of the run (\(recordedWhileDown) recorded)")
        try eventually(timeout: 60, "every job to run after the restart") { Set(file.counts().keys) == Set(jids) }
        let conn = try RedisConnection(url: redis.url)
        try eventually("nothing stranded in progress") {
            try conn.command("LLEN", keys.inProgress(queue: "default", node: node.nodeID)).int == 0
        }
        #expect(node.process.stderr.contains("Redis unavailable"), "the restart happened while the node was working")
        #expect(node.isAlive)
        #expect(node.stop() == 0)
    }
}
