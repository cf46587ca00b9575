import Foundation
import Testing
import VerkShared

@Suite(.serialized) struct CLITests {
    @Test func enqueuePrintsTheJidAndHonoursInAtAndRetry() throws {
        let ns = TestRedis.freshNamespace()
        let now = try Binaries.verk(["enqueue", "default", "HardJob", #"[1,{"a":"b"}]"#, "--retry", "3", "--namespace", ns])
        #expect(now.status == 0, "\(now.stderr)")
        let jid = now.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(jid.count == 24)
        let later = try Binaries.verk(["enqueue", "default", "Later", "[]", "--in", "120", "--namespace", ns])
        #expect(later.status == 0)
        let seen = try Sidekiq.json("""
            j = Sidekiq::Queue.new('default').first
            s = Sidekiq::ScheduledSet.new.first
            puts JSON.generate({jid: j.jid, retry: j['retry'], args: j.args, sched: s.klass, in: (s.at.to_f - Time.now.to_f).round})
            """, namespace: ns)
        #expect(seen["jid"] == .string(jid) && seen["retry"] == 3 && seen["args"] == [1, ["a": "b"]] && seen["sched"] == "Later")
        #expect((110...120).contains(seen["in"]?.intValue ?? 0))
    }

    @Test func listRetryDeleteKillAndClearOnTheSets() throws {
        let ns = TestRedis.freshNamespace()
        let keys = KeySpace(namespace: ns)
        let conn = try TestRedis.connection()
        var jobs: [Job] = []
        for i in 0..<3 {
            var job = Job(className: "Failing", args: [.int(i)])
            JobPush.normalize(&job, now: Timestamp.now())
            job.retryCount = 0
            job.errorClass = "RuntimeError"
            job.errorMessage = "boom \(i)"
            job.failedAt = Timestamp.now()
            jobs.append(job)
            try conn.command("ZADD", keys.retry, Timestamp.now() + Double(100 + i), job.encoded())
        }
        let list = try Binaries.verk(["retries", "list", "--json", "--limit", "2", "--namespace", ns])
        #expect(list.status == 0)
        let listed = try JSONParser.parse(list.stdout)
        #expect(listed.arrayValue?.count == 2)
        #expect(listed.arrayValue?.first?["job"]?["error_message"] == "boom 0")

        #expect(try Binaries.verk(["retries", "retry", jobs[0].jid!, "--namespace", ns]).status == 0)
        #expect(try Binaries.verk(["retries", "kill", jobs[1].jid!, "--namespace", ns]).status == 0)
        #expect(try Binaries.verk(["retries", "delete", jobs[2].jid!, "--namespace", ns]).status == 0)
        let missing = try Binaries.verk(["retries", "delete", jobs[2].jid!, "--namespace", ns])
        #expect(missing.status != 0 && missing.stderr.contains("no job with jid"))
        let seen = try Sidekiq.json("""
            puts JSON.generate({queued: Sidekiq::Queue.new('default').map(&:jid), dead: Sidekiq::DeadSet.new.map(&:jid),
              retries: Sidekiq::RetrySet.new.size})
            """, namespace: ns)
        #expect(seen == ["queued": [.string(jobs[0].jid!)], "dead": [.string(jobs[1].jid!)], "retries": 0])
        let clear = try Binaries.verk(["dead", "clear", "--namespace", ns])
        #expect(clear.stdout.contains("cleared 1"))
        #expect(try conn.command("ZCARD", keys.dead).int == 0)
    }

    /// Every bad input exits non-zero with exactly one line on stderr, and never prints a password.
    @Test(arguments: [
        (["enqueue", "default", "X", "[1,"], "not valid JSON"),
        (["enqueue", "default", "X", #"{"a":1}"#], "must be a JSON array"),
        (["frobnicate"], "Unexpected argument"),
        (["stats", "--redis-url", "redis://127.0.0.1:1/0"], "cannot connect to Redis at 127.0.0.1:1"),
        (["--redis-url", "redis://127.0.0.1:1/0", "retries", "list"], "cannot connect to Redis at 127.0.0.1:1"),
        (["stats", "--redis-url", "redis://u:hunter2@127.0.0.1:1/0"], "cannot connect"),
        (["stats", "--redis-url", "rediss://u:hunter2@127.0.0.1:1/0"], "TLS"),
        (["stats", "--redis-url", "redis://127.0.0.1:notaport/0"], "invalid port"),
        (["retries", "kill", "nosuchjid"], "no job with jid nosuchjid"),
    ])
    func badInputExitsNonZeroWithOneClearLine(_ args: [String], _ expected: String) throws {
        let result = try Binaries.verk(args)
        #expect(result.status != 0)
        let lines = result.stderr.split(separator: "\n")
        #expect(lines.count == 1, "stderr: \(result.stderr)")
        #expect(result.stderr.contains(expected), "stderr: \(result.stderr)")
        #expect(!result.stderr.contains("hunter2"))
    }

    @Test func globalOptionsMayComeBeforeTheSubcommand() throws {
        let ns = TestRedis.freshNamespace()
        let result = try Binaries.verk(["--redis-url", TestRedis.url, "--namespace=\(ns)", "enqueue", "q", "A"], env: ["VERK_REDIS_URL": "redis://127.0.0.1:1/0"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(try TestRedis.connection().command("LLEN", KeySpace(namespace: ns).queue("q")).int == 1)
    }

    @Test func wrongPasswordIsOneClearLine() throws {
        let redis = try PrivateRedis(extraArgs: ["--requirepass", "rightpw"])
        let result = try Binaries.verk(["stats", "--redis-url", "redis://:hunter2@127.0.0.1:\(redis.port)/0"])
        #expect(result.status != 0)
        #expect(result.stderr.split(separator: "\n").count == 1)
        #expect(result.stderr.contains("refused authentication") && !result.stderr.contains("hunter2"))
    }
}
