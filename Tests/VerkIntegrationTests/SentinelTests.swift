import Foundation
import Testing
import VerkShared

/// Redis Sentinel with Debian's redis-server and redis-sentinel on loopback: a master, a replica and
/// sentinels, all started and stopped by this test.
@Suite(.serialized) struct SentinelTests {
    @Test func connectionFindsTheMasterChecksItsRoleAndLeavesItWhenItTurnsReplica() throws {
        // One sentinel that will not fail over by itself during the test: the test moves the roles by hand.
        let cluster = try SentinelCluster(sentinels: 1, quorum: 1, downAfter: 60_000, failoverTimeout: 180_000,
                                          masterPassword: "masterpw", sentinelPassword: "sentinelpw")
        try cluster.waitUntilReady(quorum: false)
        let (master, replica) = (cluster.serverPorts[0], cluster.serverPorts[1])
        // A sentinel that is not running comes first: discovery asks the next.
        let absent = try PrivateRedis.freePort()
        var config = try RedisConfiguration(url: cluster.url(database: 3, sentinels: [absent] + cluster.sentinelPorts))
        config.reconnectTimeout = 0.5
        let conn = try RedisConnection(configuration: config, name: "verk-sentinel-test")
        #expect(conn.connectedEndpoint == "127.0.0.1:\(master)")
        try conn.command("SET", "k", "v")
        #expect(try cluster.server(master, database: 3).command("GET", "k").string == "v", "AUTH and SELECT applied on the master")
        #expect(try conn.command("CLIENT", "GETNAME").string == "verk-sentinel-test")

        // The master turns replica (as a failover demotes it) while the sentinel still names it.
        try cluster.server(replica).command("REPLICAOF", "NO", "ONE")
        try cluster.server(master).command("REPLICAOF", "127.0.0.1", replica)
        // The next write meets READONLY: a connection failure, not an error reply the caller might skip…
        #expect {
            try conn.command("SET", "k", "w")
        } throws: { error in
            guard case .notMaster = error as? RedisError else { return false }
            return "\(error)".contains("READONLY") && "\(error)".contains("127.0.0.1:\(master)")
        }
        // …and rediscovery refuses the server the sentinel names, because ROLE says replica.
        #expect {
            try conn.command("GET", "k")
        } throws: { error in
            guard case .noMaster = error as? RedisError else { return false }
            let text = "\(error)"
            return text.contains("127.0.0.1:\(master), which says it is a replica") && !text.contains("masterpw") && !text.contains("sentinelpw")
        }
        // Master again: the connection comes back to it by itself.
        try cluster.server(master).command("REPLICAOF", "NO", "ONE")
        try eventually(timeout: 10, "the connection to use the master again") {
            (try? conn.command("SET", "k", "x")) != nil
        }
        #expect(try cluster.server(master, database: 3).command("GET", "k").string == "x")
    }

    @Test func misconfigurationsFailAtOnceWithPreciseErrors() throws {
        let cluster = try SentinelCluster(sentinels: 1, quorum: 1, downAfter: 60_000, failoverTimeout: 180_000,
                                          masterPassword: "masterpw", sentinelPassword: "sentinelpw")
        let sentinel = cluster.sentinelPorts[0]
        #expect {
            try RedisConnection(url: "redis+sentinel://:masterpw@127.0.0.1:\(sentinel)/nosuchmaster?sentinel_password=sentinelpw")
        } throws: { error in
            guard case .unknownMaster = error as? RedisError else { return false }
            return "\(error)".contains("monitor no master named 'nosuchmaster'") && !"\(error)".contains("masterpw")
        }
        #expect {
            try RedisConnection(url: "redis+sentinel://:masterpw@127.0.0.1:\(sentinel)/mymaster?sentinel_password=wrong-sentinel-pw")
        } throws: { error in
            guard case .authentication = error as? RedisError else { return false }
            let text = "\(error)"
            return text.contains("sentinel 127.0.0.1:\(sentinel)") && text.contains("sentinel_password") && !text.contains("wrong-sentinel-pw")
        }
        let (a, b) = (try PrivateRedis.freePort(), try PrivateRedis.freePort())
        #expect {
            try RedisConnection(url: "redis+sentinel://127.0.0.1:\(a),127.0.0.1:\(b)/mymaster")
        } throws: { error in
            guard let e = error as? RedisError, case .noMaster = e, e.isConnectionFailure else { return false }
            return "\(e)".contains("127.0.0.1:\(a): Connection refused") && "\(e)".contains("127.0.0.1:\(b): Connection refused")
        }
    }

    @Test func theCLIAndTheClientReachTheMasterThroughSentinel() throws {
        let cluster = try SentinelCluster(sentinels: 1, quorum: 1, downAfter: 60_000, failoverTimeout: 180_000)
        let namespace = TestRedis.freshNamespace("sentinel-cli")
        let result = try Binaries.verk(["enqueue", "default", "RecordWorker", "[\"x\"]", "--namespace", namespace],
                                       env: ["VERK_REDIS_URL": cluster.url()])
        #expect(result.status == 0, "\(result.stderr)")
        let client = try VerkClient(url: cluster.url(), namespace: namespace)
        try client.enqueue("RecordWorker", args: ["y"])
        #expect(try cluster.server(cluster.serverPorts[0]).command("LLEN", "\(namespace):queue:default").int == 2)
    }

    /// SENTINEL FAILOVER while jobs are enqueued and run: the old master stays up (and writable, until
    /// Sentinel demotes it about 10 s later), so this is where a client that only waits for a dropped
    /// connection would go on writing into a server whose writes are about to be thrown away.
    @Test func nodeFollowsTheMasterThroughAForcedFailoverInTheMiddleOfARun() throws {
        let cluster = try SentinelCluster()
        try cluster.waitUntilReady(quorum: false)
        try runThroughFailover(cluster, label: "SENTINEL FAILOVER") { try cluster.forceFailover() }
    }

    /// The master is killed (SIGKILL): the sentinels agree it is down (down-after 1 s, quorum 2 of 3), elect a
    /// leader and promote the replica, while the node's connections retry discovery with backoff.
    @Test func nodeFollowsTheMasterWhenTheMasterIsKilled() throws {
        let cluster = try SentinelCluster()
        try cluster.waitUntilReady(quorum: true)
        try runThroughFailover(cluster, label: "master killed") { cluster.kill(server: cluster.serverPorts[0]) }
    }

    /// A measurement, not run by default (`VERK_SENTINEL_MEASURE=1`): the forced failover again with
    /// `min-replicas-to-write 1` on every server, the setting the README recommends. With one replica the
    /// new master refuses writes until Sentinel has made the old one its replica, about 10 s later: the
    /// node waits that long. `VERK_SENTINEL_REPLICAS=2` shows why a second replica removes the wait but
    /// not every loss (WAIT 1 is then satisfied by a replica that is not the one promoted).
    @Test(.enabled(if: ProcessInfo.processInfo.environment["VERK_SENTINEL_MEASURE"] != nil))
    func measureAForcedFailoverWithMinReplicasToWrite() throws {
        let replicas = Int(ProcessInfo.processInfo.environment["VERK_SENTINEL_REPLICAS"] ?? "") ?? 1
        let cluster = try SentinelCluster(replicas: replicas, serverSettings: ["min-replicas-to-write 1", "min-replicas-max-lag 10"])
        try cluster.waitUntilReady(quorum: false)
        try runThroughFailover(cluster, label: "SENTINEL FAILOVER, \(replicas) replica(s), min-replicas-to-write 1",
                               followsWithin: nil, everyConfirmedJobRuns: replicas == 1) { try cluster.forceFailover() }
    }

    /// Runs a node and a producer through `failover`. `followsWithin`: seconds after the switch by which every
    /// connection of the node must be on the new master. `everyConfirmedJobRuns`: a job that the new master
    /// took, or that WAIT saw on a replica, must run — true with one replica (the one promoted).
    private func runThroughFailover(_ cluster: SentinelCluster, label: String, followsWithin: Double? = 7,
                                    everyConfirmedJobRuns: Bool = true, failover: () throws -> Void) throws {
        do {
            try failingOver(cluster, label: label, followsWithin: followsWithin, everyConfirmedJobRuns: everyConfirmedJobRuns, failover: failover)
        } catch {
            print(cluster.logs())
            throw error
        }
    }

    private func failingOver(_ cluster: SentinelCluster, label: String, followsWithin: Double?, everyConfirmedJobRuns: Bool,
                             failover: () throws -> Void) throws {
        let oldMaster = cluster.serverPorts[0]
        let namespace = TestRedis.freshNamespace("sentinel")
        let keys = KeySpace(namespace: namespace)
        let file = RecordFile()
        defer { file.remove() }
        let node = try DemoNode(namespace: namespace, queues: ["default:5"], redisURL: cluster.url(),
                                extraEnv: ["VERK_HEARTBEAT_INTERVAL": "1"])
        let producer = try FailoverProducer(url: cluster.url(), namespace: namespace, file: file)
        producer.start()
        var stopped: [FailoverProducer.Batch]?
        defer { if stopped == nil { _ = producer.stop() } }
        try eventually("the node to run jobs before the failover") { file.counts().count >= 300 }

        let start = Date()
        try failover()
        let newMaster = try cluster.waitForNewMaster(replacing: oldMaster, timeout: 30)
        let switched = Date()
        // A job pushed straight to the new master runs only once the node fetches from there.
        let direct = try VerkClient(url: "redis://127.0.0.1:\(newMaster)/0", namespace: namespace)
        var pushed: String?
        // With min-replicas-to-write the new master refuses writes until it has a replica in sync.
        try eventually(timeout: 30, "the new master to take a job") {
            pushed = try? direct.enqueue("RecordWorker", args: [.string(file.path), .string("marker")])
            return pushed != nil
        }
        let marker = pushed ?? ""
        try eventually("the node to run a job from the new master") { file.counts()[marker] != nil }
        let running = Date()
        // Every connection of the node, the blocking fetcher's included (it blocks whenever the queue runs
        // dry), and none left on the old master.
        let names = ["schedule", "control", "heartbeat", "default"].map { "verk-\(node.nodeID)-\($0)" } + ["verk-fetch-\(node.nodeID)-default"]
        try eventually("every connection of the node to move to the new master") {
            let onNew = try cluster.clientNames(newMaster)
            let onOld = cluster.isRunning(oldMaster) ? try cluster.clientNames(oldMaster) : []
            return Set(names).isSubset(of: onNew) && Set(names).isDisjoint(with: onOld)
        }
        let followed = Date()
        // Sentinel demotes a live old master 8 s (SENTINEL_PUBLISH_PERIOD × 4) after the switch and then
        // drops its clients: moving before that shows the node did not wait for it.
        if let followsWithin {
            #expect(followed.timeIntervalSince(switched) < followsWithin, "the node stayed on the old master until it was demoted")
        }

        // Keep producing on the new master for a moment, then let the node drain.
        let producedBefore = producer.count
        try eventually("the producer to enqueue on the new master") { producer.count >= producedBefore + 20 }
        let batches = producer.stop()
        stopped = batches
        let atRisk = batches.filter { $0.endpoint == "127.0.0.1:\(oldMaster)" && $0.replicas == 0 }.flatMap(\.jids)
        let safe = batches.filter { $0.endpoint == "127.0.0.1:\(newMaster)" || ($0.endpoint != nil && $0.replicas > 0) }.flatMap(\.jids)
        let unacknowledged = batches.filter { $0.endpoint == nil }.flatMap(\.jids)
        let admin = try cluster.server(newMaster)
        try eventually(timeout: 30, "every replicated job to run and the node to drain") {
            let counts = file.counts()
            let queued = try admin.command("LLEN", keys.queue("default")).int
            let inProgress = try admin.command("LLEN", keys.inProgress(queue: "default", node: node.nodeID)).int
            return (!everyConfirmedJobRuns || safe.allSatisfy { counts[$0] != nil }) && queued == 0 && inProgress == 0
        }
        let counts = file.counts()
        let lost = atRisk.filter { counts[$0] == nil }
        let confirmedLost = safe.filter { counts[$0] == nil }
        let neverRun = unacknowledged.filter { counts[$0] == nil }
        let duplicated = counts.filter { $0.value > 1 }
        if everyConfirmedJobRuns {
            #expect(confirmedLost.isEmpty, "a job the replica had (or the new master took) was lost")
        }
        print("""
            sentinel failover (\(label)): sentinels named the new master \(fmt(switched.timeIntervalSince(start))) s after the failover began; \
            the node ran a job from it \(fmt(running.timeIntervalSince(switched))) s after that, and had all its connections there after \
            \(fmt(followed.timeIntervalSince(switched))) s. Jobs: \(batches.count * FailoverProducer.batchSize) enqueued in \(batches.count) batches — \
            \(safe.count) on a replica or the new master (\(confirmedLost.count) lost), \(atRisk.count) acknowledged by the old master with no replica \
            (\(lost.count) lost), \(unacknowledged.count) not acknowledged (\(neverRun.count) never ran); \(duplicated.count) ran twice or more.
            """)
        if !confirmedLost.isEmpty {
            print("lost although WAIT 1 saw them on a replica (not the one promoted, which resynced from the new master): \(confirmedLost.joined(separator: " "))")
        }
        if !lost.isEmpty {
            print("lost with the old master 127.0.0.1:\(oldMaster) (it acknowledged them after its replica was promoted, WAIT 1 saw no replica; " +
                  "its copy went when it was killed or made a replica of the new master): \(lost.joined(separator: " "))")
        }
        #expect(node.isAlive, "\(node.process.stderr.suffix(2000))")
        #expect(node.stop() == 0)
    }

    private func fmt(_ seconds: Double) -> String { String(format: "%.2f", seconds) }
}
