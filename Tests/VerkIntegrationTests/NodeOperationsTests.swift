import Foundation
import Testing
import VerkShared

/// `verk processes`, `verk quiet`, `verk stop` and `verk recover`, against real nodes, with Ruby Sidekiq's
/// ProcessSet as the oracle for what its Web UI shows.
@Suite(.serialized) struct NodeOperationsTests {
    func verk(_ ns: String, _ args: [String]) throws -> ProcessResult { try Binaries.verk(["--namespace", ns] + args) }

    @Test func sidekiqListsOurNodesAndVerkQuietAndStopWorkThroughItsSignals() throws {
        let ns = TestRedis.freshNamespace()
        let a = try DemoNode(namespace: ns, queues: ["default:3", "mail:2"], nodeID: "ops-a")
        let b = try DemoNode(namespace: ns, queues: ["default:1"], nodeID: "ops-b")
        let listed = try Sidekiq.json("""
            puts JSON.generate(Sidekiq::ProcessSet.new.map { |p| [p['hostname'], p['queues'].sort, p['concurrency'], p['quiet']] }.sort)
            """, namespace: ns)
        #expect(listed == [["ops-a", ["default", "mail"], 5, "false"], ["ops-b", ["default"], 1, "false"]])
        let processes = try verk(ns, ["processes", "--json"])
        #expect(processes.status == 0)
        let nodes = try JSONParser.parse(processes.stdout).arrayValue ?? []
        #expect(nodes.map { $0["node"]?.stringValue } == ["ops-a", "ops-b"])
        #expect(nodes.first?["queues"] == ["default": 3, "mail": 2])
        #expect(nodes.first?["pid"]?.intValue == Int(a.process.pid))
        #expect(nodes.allSatisfy { $0["expired"] == false && $0["in_progress"] == 0 })

        #expect(try verk(ns, ["quiet", "ops-a"]).status == 0)
        try eventually("Sidekiq to see ops-a quiet") {
            try Sidekiq.run("puts Sidekiq::ProcessSet.new.find { |p| p['hostname'] == 'ops-a' }['quiet']", namespace: ns) == "true"
        }
        #expect(try verk(ns, ["stop", "ops-b"]).status == 0)
        #expect(b.process.wait() == 0, "stopped cleanly")
        #expect(a.stop() == 0)
        let missing = try verk(ns, ["quiet", "ops-b"])
        #expect(missing.status != 0 && missing.stderr.contains("no live process of node 'ops-b'"))
    }

    @Test func aDeadNodeShowsExpiredWithItsJobsAndVerkRecoverPutsThemBackButRefusesALiveNode() throws {
        let ns = TestRedis.freshNamespace()
        let keys = KeySpace(namespace: ns)
        let conn = try TestRedis.connection()
        let client = try VerkClient(url: TestRedis.url, namespace: ns)
        let node = try DemoNode(namespace: ns, queues: ["default:2"], nodeID: "ops-dead")
        try client.enqueue(many: (0..<2).map { _ in Job(className: "HangWorker", args: []) })
        try eventually("the jobs to be in progress") { try conn.command("LLEN", keys.inProgress(queue: "default", node: "ops-dead")).int == 2 }
        let refused = try verk(ns, ["recover", "ops-dead"])
        #expect(refused.status != 0 && refused.stderr.contains("is live") && refused.stderr.contains("pid \(node.process.pid)"), "\(refused.stderr)")
        node.process.signal(SIGKILL)
        node.process.wait()
        try eventually("the node to show as expired, holding its jobs") {
            let nodes = try JSONParser.parse(try verk(ns, ["processes", "--json", "--expiry", "3"]).stdout).arrayValue ?? []
            return nodes.contains { $0["node"] == "ops-dead" && $0["expired"] == true && $0["in_progress"] == 2 }
        }
        try eventually("its lease to lapse") { try conn.command("EXISTS", keys.nodeLease("ops-dead")).int == 0 }
        let recovered = try verk(ns, ["recover", "ops-dead"])
        #expect(recovered.status == 0 && recovered.stdout.contains("2 jobs back on their queues"), "\(recovered.stdout)\(recovered.stderr)")
        #expect(try conn.command("LLEN", keys.queue("default")).int == 2)
        #expect(try conn.command("LLEN", keys.inProgress(queue: "default", node: "ops-dead")).int == 0)
        let again = try verk(ns, ["recover", "ops-dead"])
        #expect(again.status != 0, "exactly once: the second recover finds nothing")
        #expect(!(try verk(ns, ["processes"]).stdout.contains("ops-dead")))
    }
}
