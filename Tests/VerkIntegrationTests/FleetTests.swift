import Foundation
import Testing
import VerkShared

/// Several nodes on one Redis, as a StatefulSet runs them: a dead node's jobs are taken over by exactly
/// one live node; one id is live on one node at a time. (DemoNode beats every 0.5 s; a node is dead 3 s
/// after its last beat; a lease lasts 1.5 s.)
@Suite(.serialized) struct FleetTests {
    func events(_ node: DemoNode) -> [String] {
        node.process.stdout.split(separator: "\n").filter { $0.hasPrefix("event ") }.map { String($0.dropFirst(6)) }
    }

    @Test func aNodeKilledForGoodIsTakenOverByExactlyOneLiveNodeAndNoJobIsLost() throws {
        let ns = TestRedis.freshNamespace()
        let keys = KeySpace(namespace: ns)
        let file = RecordFile()
        defer { file.remove() }
        let conn = try TestRedis.connection()
        let client = try VerkClient(url: TestRedis.url, namespace: ns)
        let doomed = try DemoNode(namespace: ns, queues: ["default:2"], nodeID: "fleet-a")
        // Two long jobs run on the doomed node, two more wait in its window (prefetch = concurrency).
        let long = try client.enqueue(many: (0..<4).map { _ in Job(className: "SleepWorker", args: [1500]) })
        let inProgress = keys.inProgress(queue: "default", node: "fleet-a")
        try eventually("the doomed node to hold the jobs") { try conn.command("LLEN", inProgress).int == 4 }
        let b = try DemoNode(namespace: ns, queues: ["default:2"], nodeID: "fleet-b", extraArgs: ["--print-events"])
        let c = try DemoNode(namespace: ns, queues: ["default:2"], nodeID: "fleet-c", extraArgs: ["--print-events"])
        let records = try enqueueRecords(client, file: file, count: 30, queue: "default")
        doomed.process.signal(SIGKILL)
        doomed.process.wait()
        let killedAt = Date()
        try eventually(timeout: 20, "a live node to take the dead node's jobs back") { try conn.command("LLEN", inProgress).int == 0 }
        let tookMs = Int(Date().timeIntervalSince(killedAt) * 1000)
        try eventually("every job to run") {
            (try conn.command("GET", keys.processed).int ?? 0) >= long.count + records.count && Set(records).isSubset(of: Set(file.counts().keys))
        }
        let takeovers = (events(b) + events(c)).filter { $0.hasPrefix("NodeTakenOver node=fleet-a") }
        #expect(takeovers.count == 1, "exactly one taker: \(takeovers)")
        #expect(takeovers.first?.hasSuffix("jobs=4") == true || takeovers.first?.hasSuffix("jobs=2") == true,
                "the jobs it held (some may have been acknowledged before the kill): \(takeovers)")
        #expect(try conn.command("ZSCORE", keys.nodes, "fleet-a").string == nil, "the dead node left the registry")
        #expect(try conn.command("LLEN", keys.queue("default")).int == 0)
        #expect(tookMs < 3000 + 2000 + 1000, "within the expiry (3 s) and a beat: \(tookMs) ms")
        print("takeover: dead node's jobs back in their queue \(tookMs) ms after the kill (expiry 3 s, beat 0.5 s)")
        #expect(b.stop() == 0)
        #expect(c.stop() == 0)
    }

    @Test func aSecondNodeWithALiveNodesIdWaitsThenExitsNamingTheHolderAndTouchesNothing() throws {
        let ns = TestRedis.freshNamespace()
        let keys = KeySpace(namespace: ns)
        let conn = try TestRedis.connection()
        let client = try VerkClient(url: TestRedis.url, namespace: ns)
        let live = try DemoNode(namespace: ns, queues: ["default:2"], nodeID: "twin")
        try client.enqueue(many: (0..<2).map { _ in Job(className: "HangWorker", args: []) })
        let inProgress = keys.inProgress(queue: "default", node: "twin")
        try eventually("the live node to run its jobs") { try conn.command("LLEN", inProgress).int == 2 }
        let twin = try Spawned(Binaries.demo, ["--node-id", "twin", "--queue", "default:2"], env: [
            "VERK_REDIS_URL": TestRedis.url, "VERK_NAMESPACE": ns, "VERK_HEARTBEAT_INTERVAL": "0.5", "VERK_NODE_EXPIRY": "3",
        ])
        let code = twin.wait()
        #expect(code == 1)
        let message = twin.stderr
        #expect(message.contains("node id 'twin' is in use by a live node") && message.contains("pid \(live.process.pid)"), "\(message)")
        #expect(message.contains("waiting for its lease to expire"))
        #expect(!message.contains("recovered in-progress jobs"))
        #expect(try conn.command("LLEN", inProgress).int == 2, "the live node's running jobs were not requeued")
        #expect(try conn.command("LLEN", keys.queue("default")).int == 0)
        #expect(live.isAlive)
        live.process.signal(SIGKILL)
        live.process.wait()
    }

    @Test func aKilledNodeRestartedUnderItsNameServesAgainOnceItsLeaseLapses() throws {
        let ns = TestRedis.freshNamespace()
        let keys = KeySpace(namespace: ns)
        let file = RecordFile()
        defer { file.remove() }
        let first = try DemoNode(namespace: ns, queues: ["default:2"], nodeID: "pod-0")
        first.process.signal(SIGKILL)
        first.process.wait()
        let restartedAt = Date()
        let again = try DemoNode(namespace: ns, queues: ["default:2"], nodeID: "pod-0")
        let took = Date().timeIntervalSince(restartedAt)
        let client = try VerkClient(url: TestRedis.url, namespace: ns)
        let jids = try enqueueRecords(client, file: file, count: 5, queue: "default")
        try eventually("the restarted node to serve") { Set(jids).isSubset(of: Set(file.counts().keys)) }
        #expect(took < 1.5 + 3, "the old lease (1.5 s) lapsed and the node started: \(took) s")
        #expect(try TestRedis.connection().command("ZSCORE", keys.nodes, "pod-0").string != nil)
        #expect(again.stop() == 0)
        #expect(try TestRedis.connection().command("EXISTS", keys.nodeLease("pod-0")).int == 0, "a clean stop gives the id up")
    }

    @Test func aLapsedLeaseIsTakenAgainButALeaseAnotherHoldsStopsTheNode() throws {
        let ns = TestRedis.freshNamespace()
        let keys = KeySpace(namespace: ns)
        let conn = try TestRedis.connection()
        let node = try DemoNode(namespace: ns, queues: ["default:1"], nodeID: "lease-node")
        try eventually("the node to hold its lease") { try conn.command("EXISTS", keys.nodeLease("lease-node")).int == 1 }
        // As if a heartbeat came later than the lease's life: it lapsed, nothing was taken over.
        try conn.command("DEL", keys.nodeLease("lease-node"))
        try eventually("the lease to be taken again") { node.process.stderr.contains("was taken again") }
        #expect(node.isAlive)
        // Now another process holds the id: this one must stop, and say why.
        try conn.command("SET", keys.nodeLease("lease-node"), "someoneelse {\"host\":\"h\",\"pid\":1,\"since\":0}")
        #expect(node.process.wait() == 1)
        #expect(node.process.stderr.contains("lease expired"))
    }
}
