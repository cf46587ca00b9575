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

    /// Each set offers the actions that make sense on it: `kill` (to the dead set, as Sidekiq's API does) on
    /// scheduled and retries, not on dead; `--limit 0` lists none and a negative limit is refused.
    @Test func setCommandsAreCoherentAcrossTheSetsAndLimitZeroListsNone() throws {
        for (set, offersKill) in [("scheduled", true), ("retries", true), ("dead", false)] {
            let help = try Binaries.verk([set, "--help"])
            let subcommands = help.stdout.split(separator: "\n").compactMap { $0.firstMatch(of: /^  ([a-z]+)\b/).map { String($0.1) } }
            #expect(subcommands == ["list", "retry", "delete"] + (offersKill ? ["kill"] : []) + ["clear"], "\(set): \(help.stdout)")
        }
        let ns = TestRedis.freshNamespace()
        let keys = KeySpace(namespace: ns)
        let conn = try TestRedis.connection()
        var job = Job(className: "Later", args: [1])
        JobPush.normalize(&job, now: Timestamp.now())
        try conn.command("ZADD", keys.schedule, Timestamp.now() + 600, job.encoded())
        let none = try Binaries.verk(["scheduled", "list", "--json", "--limit", "0", "--namespace", ns])
        let listed = try JSONParser.parse(none.stdout)
        #expect(none.status == 0 && listed == [], "\(none.stdout)")
        let negative = try Binaries.verk(["scheduled", "list", "--limit=-1", "--namespace", ns])
        #expect(negative.status != 0 && negative.stderr.contains("--limit must be 0 or more"))

        let kill = try Binaries.verk(["scheduled", "kill", job.jid!, "--namespace", ns])
        #expect(kill.status == 0, "\(kill.stderr)")
        let seen = try Sidekiq.json("puts JSON.generate({scheduled: Sidekiq::ScheduledSet.new.size, dead: Sidekiq::DeadSet.new.map(&:jid)})",
                                    namespace: ns)
        #expect(seen == ["scheduled": 0, "dead": [.string(job.jid!)]])
        let deadKill = try Binaries.verk(["dead", "kill", job.jid!, "--namespace", ns])
        #expect(deadKill.status != 0 && deadKill.stderr == "verk: jobs in the dead set are dead already: verk dead offers list, retry, delete and clear\n")
        #expect(try conn.command("ZCARD", keys.dead).int == 1, "a refused kill leaves the dead job where it is")
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
