import Foundation
import Testing
import VerkShared

/// The operator's side of runtime queue control, against a real Redis: what is stored, and what each node
/// reads back.
@Suite(.serialized) struct QueueControlTests {
    func control(_ ns: String) throws -> (QueueControl, RedisConnection, KeySpace) {
        let conn = try TestRedis.connection()
        let keys = KeySpace(namespace: ns)
        return (QueueControl(redis: conn, keys: keys), conn, keys)
    }

    @Test func pauseAndResumeRoundTripAndShowInTheSnapshot() throws {
        let (control, conn, keys) = try control(TestRedis.freshNamespace())
        #expect(try control.pausedQueues().isEmpty)
        try control.pause("mail")
        try control.pause("reports")
        try control.pause("mail")  // twice is the same as once
        #expect(try control.pausedQueues() == ["mail", "reports"])
        #expect(try Set(conn.command("SMEMBERS", keys.paused).array?.compactMap(\.string) ?? []) == ["mail", "reports"])
        try control.resume("mail")
        try control.resume("never-paused")
        #expect(try control.pausedQueues() == ["reports"])
        #expect(try control.snapshot(node: "any-node").paused == ["reports"])

        let (other, _, _) = try self.control(TestRedis.freshNamespace())
        #expect(try other.pausedQueues().isEmpty, "a namespace sees only its own paused queues")
    }

    @Test func fleetWideThenNodeSpecificAddAndRemoveTheLaterNodeEntryWins() throws {
        let (control, _, _) = try control(TestRedis.freshNamespace())
        try control.addQueue("mail", concurrency: 5)
        try control.removeQueue("default")
        try control.addQueue("mail", concurrency: 8, node: "web-1")
        try control.removeQueue("mail", node: "web-2")
        try control.addQueue("default", concurrency: 2, node: "web-2")

        #expect(try control.overrides(node: "web-1") == QueueOverrides(added: ["mail": 8], removed: ["default"]))
        #expect(try control.overrides(node: "web-2") == QueueOverrides(added: ["default": 2], removed: ["mail"]))
        #expect(try control.overrides(node: "web-3") == QueueOverrides(added: ["mail": 5], removed: ["default"]),
                "a node never told anything itself, including one started later, gets the fleet-wide entries")

        let configured = [QueueConfiguration("default", concurrency: 10), QueueConfiguration("reports", concurrency: 1)]
        let web2 = try control.overrides(node: "web-2").apply(to: configured)
        #expect(web2 == [QueueConfiguration("default", concurrency: 2), QueueConfiguration("reports", concurrency: 1)])
    }

    @Test func aFleetWideCommandClearsThatQueueFromEveryNodesOwnEntries() throws {
        let (control, conn, keys) = try control(TestRedis.freshNamespace())
        // web-1 has heartbeated (it is in `nodes`) and has an entry written by hand; web-9 has never
        // started and was told through the API; both also hold an entry for another queue.
        try conn.command("ZADD", keys.nodes, Timestamp.now(), "web-1")
        try conn.command("HSET", keys.queueOverrides(node: "web-1"), "mail", "3", "reports", "removed")
        try control.removeQueue("mail", node: "web-9")
        try control.addQueue("reports", concurrency: 4, node: "web-9")

        try control.addQueue("mail", concurrency: 6)
        for node in ["web-1", "web-9"] {
            #expect(try conn.command("HEXISTS", keys.queueOverrides(node: node), "mail").int == 0, "\(node)")
            #expect(try control.overrides(node: node).added["mail"] == 6, "\(node)")
        }
        #expect(try control.overrides(node: "web-1").removed == ["reports"], "other queues' node entries stay")
        #expect(try control.overrides(node: "web-9").added["reports"] == 4)

        // A node command after the fleet-wide one wins again; a fleet-wide remove then clears it too.
        try control.addQueue("mail", concurrency: 9, node: "web-1")
        #expect(try control.overrides(node: "web-1").added["mail"] == 9)
        try control.removeQueue("mail")
        #expect(try control.overrides(node: "web-1").removed.contains("mail"))
        #expect(try control.overrides(node: "web-9").removed.contains("mail"))
        #expect(try conn.command("HGET", keys.queueOverrides, "mail").string == "removed")
    }

    @Test func resetForgetsRuntimeEntriesSoTheConfigurationDecidesAgain() throws {
        let (control, conn, keys) = try control(TestRedis.freshNamespace())
        try control.addQueue("mail", concurrency: 5)
        try control.removeQueue("mail", node: "web-1")
        try control.addQueue("other", concurrency: 1, node: "web-2")

        try control.resetQueue("other", node: "web-2")
        #expect(try control.overrides(node: "web-2") == QueueOverrides(added: ["mail": 5]))
        try control.resetQueue("mail")
        #expect(try control.overrides(node: "web-1") == QueueOverrides())
        #expect(try conn.command("EXISTS", keys.queueOverrides, keys.queueOverrides(node: "web-1"), keys.queueOverrides(node: "web-2")).int == 0)
        #expect(try conn.command("SCARD", keys.queueOverrideNodes).int == 0, "emptied node hashes leave the index")
    }

    @Test func theSnapshotIsThePausedSetAndTheOverridesTogether() throws {
        let (control, _, _) = try control(TestRedis.freshNamespace())
        try control.pause("slow")
        try control.addQueue("mail", concurrency: 5)
        try control.removeQueue("default", node: "n1")
        let snapshot = try control.snapshot(node: "n1")
        #expect(snapshot.paused == ["slow"])
        #expect(snapshot.overrides == QueueOverrides(added: ["mail": 5], removed: ["default"]))
        #expect(snapshot.overrides == (try control.overrides(node: "n1")))
    }

    @Test func badNamesConcurrenciesAndNodeIdsAreRefusedWithTheConfigurationsMessageAndWriteNothing() throws {
        let ns = TestRedis.freshNamespace()
        let (control, conn, _) = try control(ns)
        func message(_ body: () throws -> Void) -> String {
            do { try body() } catch { return "\(error)" }
            return "no error"
        }
        #expect(message { try control.addQueue("bad name", concurrency: 3) }.contains("a queue name may only hold letters"))
        #expect(message { try control.addQueue("mail", concurrency: 0) } == "invalid configuration queues = 'mail:0': concurrency must be between 1 and 1000")
        #expect(message { try control.addQueue("mail", concurrency: 1001, node: "n1") }.contains("concurrency must be between 1 and 1000"))
        #expect(message { try control.removeQueue("", node: "n1") }.contains("a queue name may only hold"))
        #expect(message { try control.pause("a/b") }.contains("a queue name may only hold"))
        #expect(message { try control.addQueue("mail", concurrency: 2, node: "two words") }.contains("node_id = 'two words'"))
        #expect(message { _ = try control.snapshot(node: "") }.contains("node_id"))
        #expect(try conn.command("KEYS", ns + ":*").array?.isEmpty == true)
    }

    @Test func handEditedJunkIsSkippedAndReportedNeverFatal() throws {
        let (control, conn, keys) = try control(TestRedis.freshNamespace())
        try conn.command("HSET", keys.queueOverrides, "mail", "5", "bad name", "3", "zero", "0")
        try conn.command("HSET", keys.queueOverrides(node: "n1"), "mail", "many", "ok", "removed")
        let overrides = try control.overrides(node: "n1")
        #expect(overrides == QueueOverrides(added: ["mail": 5], removed: ["ok"]), "the bad node entry falls back to the fleet one")
        #expect(overrides.problems.count == 3)
        #expect(overrides.problems.contains { $0.hasPrefix(keys.queueOverrides(node: "n1") + ": skipped field 'mail' = 'many'") })

        // A key of the wrong type is a clear error for the caller (the watcher logs it), not a crash.
        try conn.command("SET", keys.queueOverrides(node: "n2"), "oops")
        #expect(throws: RedisError.self) { try control.snapshot(node: "n2") }
        #expect(try control.snapshot(node: "n1").overrides == overrides, "other nodes are unaffected")
    }
}
