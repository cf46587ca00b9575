import Foundation
import Testing
import VerkShared

/// Ruby Sidekiq 6.4 reads what we write, and we read what it writes.
@Suite(.serialized) struct SidekiqCompatibilityTests {
    @Test func jobEnqueuedByOurClientIsReadBySidekiqQueue() throws {
        let ns = TestRedis.freshNamespace()
        let client = try VerkClient(url: TestRedis.url, namespace: ns)
        let args: [JSONValue] = [1, "a", ["x": []], 1.5, nil, [true]]
        let jid = try client.enqueue("HardJob", args: args, queue: "default")
        let seen = try Sidekiq.json("""
            q = Sidekiq::Queue.new('default')
            j = q.first
            puts JSON.generate({class: j.klass, args: j.args, jid: j.jid, queue: j.queue,
              created_at: j.item['created_at'], enqueued_at: j.item['enqueued_at'],
              float_times: j.item['created_at'].is_a?(Float) && j.item['enqueued_at'].is_a?(Float),
              size: q.size, queues: Sidekiq::Queue.all.map(&:name), latency: q.latency})
            """, namespace: ns)
        #expect(seen["class"] == "HardJob")
        #expect(seen["args"] == .array(args))
        #expect(seen["jid"] == .string(jid))
        #expect(seen["queue"] == "default")
        #expect(seen["float_times"] == true)
        #expect(seen["size"] == 1)
        #expect(seen["queues"] == ["default"])
        let created = try #require(seen["created_at"]?.doubleValue)
        #expect(abs(created - Date().timeIntervalSince1970) < 60)
        #expect((seen["latency"]?.doubleValue ?? -1) >= 0)
    }

    @Test func scheduledJobAppearsInSidekiqScheduledSetAtTheRightTime() throws {
        let ns = TestRedis.freshNamespace()
        let client = try VerkClient(url: TestRedis.url, namespace: ns)
        let at = Date().timeIntervalSince1970 + 3600
        let jid = try client.enqueue(Job(className: "Later", args: [7], queue: "mail"), at: at)
        let seen = try Sidekiq.json("""
            s = Sidekiq::ScheduledSet.new
            j = s.first
            puts JSON.generate({size: s.size, jid: j.jid, at: j.at.to_f, queue: j.queue, has_enqueued_at: j.item.key?('enqueued_at'),
              found: !s.find_job('\(jid)').nil?})
            """, namespace: ns)
        #expect(seen["size"] == 1)
        #expect(seen["jid"] == .string(jid))
        #expect(seen["queue"] == "mail")
        #expect(seen["has_enqueued_at"] == false)
        #expect(seen["found"] == true)
        #expect(abs((seen["at"]?.doubleValue ?? 0) - at) < 0.001)
    }

    @Test func jobPushedBySidekiqClientRoundTripsWithEveryUnknownFieldIntact() throws {
        let ns = TestRedis.freshNamespace()
        _ = try Sidekiq.run("""
            Sidekiq::Client.push('class' => 'HardJob', 'args' => [1, {'a' => []}, 2.5, 12345678901234567890, 'é/x'],
              'queue' => 'default', 'retry' => 5, 'backtrace' => true, 'tags' => ['t1'], 'bid' => 'b-123',
              'custom' => {'nested' => [1, 2.0, nil]}, 'wrapped' => 'MyJob')
            """, namespace: ns)
        let conn = try TestRedis.connection()
        let raw = try #require(try conn.command("LINDEX", KeySpace(namespace: ns).queue("default"), 0).bytes)
        let job = try Job(parsing: raw)
        #expect(job.className == "HardJob")
        #expect(job.retry == .limit(5))
        #expect(job.backtraceLines == Int.max)
        #expect(job.jid?.count == 24)
        #expect(job["bid"] == "b-123" && job["tags"] == ["t1"] && job["wrapped"] == "MyJob")
        #expect(job.enqueuedAt != nil && job.createdAt != nil)
        // Re-encoding writes the very same bytes: nothing dropped, reordered or reformatted.
        #expect(job.encoded() == raw, "\(String(decoding: raw, as: UTF8.self)) vs \(job.json)")
    }

    @Test func bulkEnqueueIsOneRoundTripAndSidekiqSeesEveryJob() throws {
        let ns = TestRedis.freshNamespace()
        let client = try VerkClient(url: TestRedis.url, namespace: ns)
        let jobs = (0..<1000).map { Job(className: "Bulk", args: [.int($0)], queue: $0 % 2 == 0 ? "even" : "odd") }
        let jids = try client.enqueue(many: jobs)
        #expect(Set(jids).count == 1000)
        let seen = try Sidekiq.json("""
            puts JSON.generate({even: Sidekiq::Queue.new('even').size, odd: Sidekiq::Queue.new('odd').size,
              enqueued: Sidekiq::Stats.new.enqueued})
            """, namespace: ns)
        #expect(seen == ["even": 500, "odd": 500, "enqueued": 1000])
    }

    @Test func clientMiddlewareCanChangeAndSkipJobs() throws {
        struct Tagger: ClientMiddleware {
            func willPush(_ job: inout Job, at: Double?) throws -> Bool {
                if job.className == "Skip" { return false }
                job["tags"] = ["from-middleware"]
                return true
            }
        }
        let ns = TestRedis.freshNamespace()
        let client = try VerkClient(url: TestRedis.url, namespace: ns, middleware: [Tagger()])
        try client.enqueue("Keep", args: [])
        #expect(throws: VerkClientError.self) { try client.enqueue("Skip", args: []) }
        let seen = try Sidekiq.json("puts JSON.generate(Sidekiq::Queue.new('default').map { |j| [j.klass, j.tags] })", namespace: ns)
        #expect(seen == [["Keep", ["from-middleware"]]])
    }

    @Test func statsJSONAgreesWithSidekiqStats() throws {
        let ns = TestRedis.freshNamespace()
        let keys = KeySpace(namespace: ns)
        let client = try VerkClient(url: TestRedis.url, namespace: ns)
        try client.enqueue(many: (0..<3).map { _ in Job(className: "A", args: [], queue: "default") })
        try client.enqueue(many: (0..<2).map { _ in Job(className: "B", args: [], queue: "mail") })
        try client.schedule(Job(className: "C", args: []), in: 600)
        let conn = try TestRedis.connection()
        let failed = Job(className: "F", args: [])
        _ = try conn.pipeline([
            RedisCommand("INCRBY", keys.processed, 42), RedisCommand("INCRBY", keys.failed, 7),
            RedisCommand("ZADD", keys.retry, 2_000_000_000.5, failed.encoded()),
            RedisCommand("ZADD", keys.dead, 1_700_000_000.5, Job(className: "D", args: []).encoded()),
            RedisCommand("SADD", keys.processes, "host:1:abc", "host:2:def"),
            RedisCommand("HSET", keys.process("host:1:abc"), "busy", 3),
            RedisCommand("HSET", keys.process("host:2:def"), "busy", 2),
        ])
        let result = try Binaries.verk(["stats", "--json", "--namespace", ns])
        #expect(result.status == 0, "\(result.stderr)")
        let ours = try JSONParser.parse(result.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
        let theirs = try Sidekiq.json("""
            s = Sidekiq::Stats.new
            puts JSON.generate({processed: s.processed, failed: s.failed, enqueued: s.enqueued, scheduled: s.scheduled_size,
              retries: s.retry_size, dead: s.dead_size, processes: s.processes_size, busy: s.workers_size,
              queues: s.queues, latency: Sidekiq::Queue.all.map { |q| [q.name, q.latency] }.to_h})
            """, namespace: ns)
        for key in ["processed", "failed", "enqueued", "scheduled", "retries", "dead", "processes", "busy"] {
            #expect(ours[key] == theirs[key], "\(key): ours \(String(describing: ours[key])) Sidekiq \(String(describing: theirs[key]))")
        }
        #expect(Set(ours.objectValue!.keys) == ["processed", "failed", "enqueued", "scheduled", "retries", "dead", "processes", "busy", "queues"])
        for member in theirs["queues"]!.objectValue! {
            let name = member.key, size = member.value
            #expect(ours["queues"]?[name]?["size"] == size)
            let ourLatency = try #require(ours["queues"]?[name]?["latency"]?.doubleValue)
            let theirLatency = try #require(theirs["latency"]?[name]?.doubleValue)
            #expect(abs(ourLatency - theirLatency) < 5, "latency of \(name)")
        }
    }

    @Test func setActionsAreSeenBySidekiq() throws {
        let ns = TestRedis.freshNamespace()
        let keys = KeySpace(namespace: ns)
        let conn = try TestRedis.connection()
        var job = Job(className: "R", args: [1])
        JobPush.normalize(&job, now: Timestamp.now())
        job.retryCount = 2
        job.errorClass = "E"
        job.errorMessage = "m"
        job.failedAt = Timestamp.now()
        try conn.command("ZADD", keys.retry, Timestamp.now() + 100, job.encoded())
        let retries = JobSet(.retries, keys: keys)
        let entry = try #require(try retries.find(conn, jid: job.jid!))
        #expect(try retries.kill(conn, entry))
        var seen = try Sidekiq.json("puts JSON.generate({retry: Sidekiq::RetrySet.new.size, dead: Sidekiq::DeadSet.new.map(&:jid)})", namespace: ns)
        #expect(seen == ["retry": 0, "dead": [.string(job.jid!)]])
        let dead = JobSet(.dead, keys: keys)
        #expect(try dead.enqueueNow(conn, try #require(try dead.find(conn, jid: job.jid!))))
        seen = try Sidekiq.json("j = Sidekiq::Queue.new('default').first; puts JSON.generate({jid: j.jid, rc: j['retry_count'], dead: Sidekiq::DeadSet.new.size})", namespace: ns)
        #expect(seen == ["jid": .string(job.jid!), "rc": 1, "dead": 0])
    }
}
