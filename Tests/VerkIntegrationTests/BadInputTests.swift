import Foundation
import Testing
import VerkShared

/// Input a new user can put in Redis by hand or by mistake: never looped, never dropped, never a crash, and
/// what is parked is a Sidekiq job that Sidekiq's own API and `verk dead` handle.
@Suite(.serialized) struct BadInputTests {
    /// Payloads in a queue that can never run, and a scheduled job whose queue is empty: each is parked in
    /// dead as a well-formed job (`Verk.InvalidPayload`, the reason, the original bytes), the queue keeps
    /// serving, and Sidekiq's `DeadSet` (each, find_job, delete, retry), `verk dead list|delete|retry` read it.
    @Test func everyBadPayloadIsParkedAsASidekiqJobThatSidekiqAndTheCLIHandle() throws {
        let ns = TestRedis.freshNamespace()
        let keys = KeySpace(namespace: ns)
        let file = RecordFile()
        defer { file.remove() }
        let node = try DemoNode(namespace: ns, queues: ["default:2"], extraEnv: ["VERK_MAX_JOB_SIZE": "100000"])
        let conn = try TestRedis.connection()
        let huge = Job(className: "NoopWorker", args: [.string(String(repeating: "x", count: 200_000))])  // and no jid
        let bad: [(jid: String?, bytes: [UInt8])] = [
            (nil, Array("{not json".utf8)),
            (nil, Array(#"["HardJob",1]"#.utf8)),
            ("bad-noclass", Array(#"{"args":[1],"jid":"bad-noclass","created_at":1700000000.5}"#.utf8)),
            ("bad-args", Array(#"{"class":"HardJob","args":"x","jid":"bad-args"}"#.utf8)),
            ("bad-noargs", Array(#"{"class":"NoopWorker","jid":"bad-noargs"}"#.utf8)),
            ("bad-utf8", Array(#"{"class":"NoopWorker","args":[""#.utf8) + [0xFF] + Array(#""],"jid":"bad-utf8"}"#.utf8)),
        ]
        try conn.command("LPUSH", keys.queue("default"), huge.encoded())
        for payload in bad { try conn.command("LPUSH", keys.queue("default"), payload.bytes) }
        // A due scheduled job whose queue names no queue: Sidekiq's client refuses it; the poller parks it.
        let emptyQueue = Array(#"{"class":"RecordWorker","args":["x"],"queue":"","jid":"bad-queue","retry":true}"#.utf8)
        try conn.command("ZADD", keys.schedule, Timestamp.now() - 1, emptyQueue)
        let client = try VerkClient(url: TestRedis.url, namespace: ns)
        let good = try enqueueRecords(client, file: file, count: 20, queue: "default")
        try eventually("the good jobs to run") { Set(file.counts().keys) == Set(good) }
        try eventually("the eight bad payloads to be parked in dead") { try conn.command("ZCARD", keys.dead).int == 8 }
        #expect(try conn.command("LLEN", keys.queue("")).int == 0, "nothing was pushed to a queue nothing serves")
        #expect(try conn.command("LLEN", keys.inProgress(queue: "default", node: node.nodeID)).int == 0)

        let dead = try JobSet(.dead, keys: keys).list(conn, limit: 10)
        let jobs = dead.compactMap(\.job)
        #expect(jobs.count == 8, "every dead entry is a well-formed job")
        #expect(jobs.filter { $0.errorClass == "Verk.PayloadTooLarge" }.count == 1, "the oversize job is parked with its own reason")
        let parked = jobs.filter { ParkedPayload.isParked($0) }
        #expect(parked.count == 7 && parked.allSatisfy { $0.errorClass == "Verk.InvalidPayload" && $0.failedAt != nil })
        #expect(Set(parked.compactMap { ParkedPayload.original(of: $0) }) == Set(bad.map(\.bytes) + [emptyQueue]), "every original, byte for byte")
        let byJid = Dictionary(parked.map { ($0.jid ?? "", $0) }) { a, _ in a }
        #expect(byJid["bad-args"]?.className == "HardJob" && byJid["bad-noclass"]?.className == ParkedPayload.placeholderClass)
        #expect(byJid["bad-noclass"]?.createdAt == 1_700_000_000.5)
        #expect(byJid["bad-utf8"]?[ParkedPayload.base64Field] != nil)
        #expect(byJid["bad-queue"]?.queue == "default" && byJid["bad-queue"]?.errorMessage?.contains("found in the schedule set") == true)
        #expect(byJid["bad-args"]?.errorMessage?.contains("fetched from queue 'default'") == true)

        // Sidekiq's own API: each (which raised TypeError on a raw string), find_job, delete, and "Retry now".
        let seen = try Sidekiq.json("""
            ds = Sidekiq::DeadSet.new
            all = ds.map { |e| [e.jid, e.klass, e['error_class'], e.queue, e.args.is_a?(Array)] }
            found = ds.find_job('bad-args')
            found&.delete
            size = Sidekiq::DeadSet.new.size
            ds.find_job('bad-noclass').retry
            puts JSON.generate({all: all, found: found&.klass, size: size})
            """, namespace: ns)
        let all = try #require(seen["all"]?.arrayValue)
        #expect(all.count == 8 && all.allSatisfy { $0.arrayValue?[0].stringValue?.isEmpty == false && $0.arrayValue?[4] == .bool(true) })
        #expect(all.filter { $0.arrayValue?[2] == "Verk.InvalidPayload" }.count == 7)
        #expect(seen["found"] == "HardJob" && seen["size"] == 7, "\(seen)")
        // The parked job pushed back by "Retry now" is refused by its worker process and returns to dead as it was.
        try eventually("the retried parked job to be back in dead") {
            try JobSet(.dead, keys: keys).find(conn, jid: "bad-noclass") != nil
                && conn.command("LLEN", keys.queue("default")).int == 0
        }
        #expect(try conn.command("ZCARD", keys.retry).int == 0, "a parked job never goes round the retries")
        #expect(try JobSet(.dead, keys: keys).find(conn, jid: "bad-noclass")?.job?.errorMessage == byJid["bad-noclass"]?.errorMessage)

        // `verk dead list` gives every entry a jid, `delete` removes a parked one, `retry` refuses it saying why.
        let list = try Binaries.verk(["dead", "list", "--json", "--namespace", ns])
        let listed = try #require(try JSONParser.parse(list.stdout).arrayValue)
        #expect(listed.count == 7 && listed.allSatisfy { $0["jid"]?.stringValue != nil })
        #expect(try Binaries.verk(["dead", "delete", "bad-utf8", "--namespace", ns]).status == 0)
        let retry = try Binaries.verk(["dead", "retry", "bad-queue", "--namespace", ns])
        #expect(retry.status != 0 && retry.stderr.contains("parked in the dead set") && retry.stderr.split(separator: "\n").count == 1)
        #expect(try conn.command("ZCARD", keys.dead).int == 6)

        #expect(node.latestPID("default") == node.workerPIDs().first?.pid, "no worker process was lost to a bad payload")
        #expect(node.isAlive)
        #expect(node.stop() == 0)
    }

    /// Sidekiq's client writes `"retry": null` for `retry: nil`; Sidekiq 6.4 then retries with the worker's
    /// default (25). It is retried here too, not discarded.
    @Test func aJobWithRetryNullIsRetriedNotDiscarded() throws {
        let ns = TestRedis.freshNamespace()
        let node = try DemoNode(namespace: ns, queues: ["default:1"])
        let jid = try Sidekiq.run("puts Sidekiq::Client.push('class' => 'InteropFail', 'args' => ['null retry'], 'retry' => nil)", namespace: ns)
        let conn = try TestRedis.connection()
        let keys = KeySpace(namespace: ns)
        try eventually("the failed job to reach the retry set") { try conn.command("ZCARD", keys.retry).int == 1 }
        let seen = try Sidekiq.json("""
            j = Sidekiq::RetrySet.new.find_job('\(jid)')
            puts JSON.generate({retry: j['retry'], count: j['retry_count'], error: j['error_message'], dead: Sidekiq::DeadSet.new.size})
            """, namespace: ns)
        #expect(seen == ["retry": .null, "count": 0, "error": "InteropFail: null retry", "dead": 0])
        #expect(node.stop() == 0)
    }

    /// `--queue default:x` was a queue named "default:x": now one line naming the value, exit 78.
    @Test func aQueueWhoseConcurrencyIsNotANumberStopsTheNodeAtStart() throws {
        let result = try runProcess(Binaries.demo, ["--queue", "default:x"], env: ["VERK_REDIS_URL": TestRedis.url])
        #expect(result.status == 78)
        #expect(result.stderr.split(separator: "\n") == [
            "verk: invalid configuration queues = 'default:x': expected NAME:CONCURRENCY, e.g. default:10 ('x' is not a whole number; "
                + "a name holding ':' is written with its concurrency, e.g. a:b:10) (from VERK_QUEUES)",
        ])
    }
}
