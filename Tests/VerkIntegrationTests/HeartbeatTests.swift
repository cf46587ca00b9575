import Foundation
import Testing
import VerkShared

@Suite(.serialized) struct HeartbeatTests {
    @Test func nodeAndItsRunningJobsShowInSidekiqsProcessAndWorkersAPIAndObeyQuietAndStop() throws {
        let ns = TestRedis.freshNamespace()
        let keys = KeySpace(namespace: ns)
        let node = try DemoNode(namespace: ns, queues: ["default:2", "mail:3"], extraEnv: ["VERK_HEARTBEAT_INTERVAL": "0.2"])
        let client = try VerkClient(url: TestRedis.url, namespace: ns)
        try client.enqueue("SleepWorker", args: [3000])
        try client.enqueue("SleepWorker", args: [3000])
        let conn = try TestRedis.connection()
        try eventually("the heartbeat to report 2 busy") {
            guard let id = try conn.command("SMEMBERS", keys.processes).array?.first?.string else { return false }
            return try conn.command("HGET", keys.process(id), "busy").int == 2
        }
        let seen = try Sidekiq.json("""
            ps = Sidekiq::ProcessSet.new
            p = ps.first
            w = Sidekiq::Workers.new.map { |_pid, _tid, work| [work['queue'], work['payload']['class'], work['run_at'].is_a?(Integer)] }
            puts JSON.generate({size: ps.size, hostname: p['hostname'], busy: p['busy'], concurrency: p['concurrency'],
              queues: p['queues'].sort, quiet: p['quiet'], started: p['started_at'].is_a?(Float), identity: p['identity'] == p.identity,
              workers: w, total_busy: Sidekiq::Stats.new.workers_size})
            """, namespace: ns)
        #expect(seen["size"] == 1 && seen["hostname"] == .string(node.nodeID))
        #expect(seen["busy"] == 2 && seen["concurrency"] == 5 && seen["queues"] == ["default", "mail"])
        #expect(seen["quiet"] == "false" && seen["started"] == true && seen["identity"] == true && seen["total_busy"] == 2)
        #expect(seen["workers"] == [["default", "SleepWorker", true], ["default", "SleepWorker", true]])

        // Quiet from Sidekiq's API: the node says so and fetches nothing new.
        _ = try Sidekiq.run("Sidekiq::ProcessSet.new.first.quiet!", namespace: ns)
        try eventually("the node to report quiet") {
            guard let id = try conn.command("SMEMBERS", keys.processes).array?.first?.string else { return false }
            return try conn.command("HGET", keys.process(id), "quiet").string == "true"
        }
        // Stop from Sidekiq's API: a graceful drain, exit 0, and the process record gone.
        _ = try Sidekiq.run("Sidekiq::ProcessSet.new.first.stop!", namespace: ns)
        try eventually(timeout: 30, "the node to stop") { !node.isAlive }
        #expect(node.process.wait() == 0)
        #expect(try conn.command("SCARD", keys.processes).int == 0)
    }
}
