import Foundation
import Testing
import VerkShared

/// The process record and work entries hold every field Exq's API and Sidekiq 7's ProcessSet/WorkSet read.
@Suite struct PeerProcessRecordTests {
    /// Exq reads `busy`, `quiet`, `pid`, `hostname`, `queues`, `concurrency` from `info`; Sidekiq 7 adds
    /// `version`, `weights`, `embedded`, `identity`, `started_at`, `tag`, `labels`.
    static let infoFields = ["hostname", "started_at", "pid", "tag", "concurrency", "queues", "labels", "identity",
                             "busy", "quiet", "version", "weights", "embedded"]
    /// A work entry: Sidekiq reads queue, payload, run_at; Exq also host and pid.
    static let workFields = ["queue", "payload", "run_at", "host", "pid"]

    @Test func infoAndWorkEntriesCarryWhatExqAndSidekiq7Read() throws {
        let ns = TestRedis.freshNamespace()
        let keys = KeySpace(namespace: ns)
        let conn = try TestRedis.connection()
        let node = try DemoNode(namespace: ns, queues: ["default:2"], nodeID: "peer-node")
        let client = try VerkClient(url: TestRedis.url, namespace: ns)
        try client.enqueue(Job(className: "SleepWorker", args: [3000]))
        var identity = ""
        try eventually("the running job to show in the work hash") {
            guard let id = try conn.command("SMEMBERS", keys.processes).array?.first?.string else { return false }
            identity = id
            return try conn.command("HLEN", keys.processWorkersLegacy(id)).int == 1
        }
        let info = try JSONParser.parse(try #require(try conn.command("HGET", keys.process(identity), "info").string))
        for field in Self.infoFields { #expect(info[field] != nil, "info lacks \(field)") }
        #expect(info["busy"]?.intValue == 1 && info["quiet"] == false && info["weights"] == ["default": 0])
        for key in [keys.processWorkersLegacy(identity), keys.processWork(identity)] {
            let values = (try conn.command("HVALS", key).array ?? []).compactMap(\.string)
            let entry = try JSONParser.parse(try #require(values.first))
            for field in Self.workFields { #expect(entry[field] != nil, "\(key) entry lacks \(field)") }
            #expect(entry["host"] == "peer-node" && entry["pid"]?.stringValue == node.latestPID("default").map(String.init))
        }
        // Sidekiq 6.4's own API, live, reads the same record.
        let ruby = try Sidekiq.json("puts JSON.generate(Sidekiq::ProcessSet.new.map { |p| [p['busy'], p['quiet'], p['version']] })", namespace: ns)
        #expect(ruby == [[1, "false", "verk-swift 1.0"]])
        node.process.signal(SIGKILL)
        node.process.wait()
    }
}
