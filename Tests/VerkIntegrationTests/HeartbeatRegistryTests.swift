import Foundation
import Testing
import VerkShared

/// The registry (`verk:nodes`) is where a takeover takes a node out: a beat must never put it back. One
/// did when its PING waited out a partition and the node had been taken over meanwhile; the node then
/// "retook" its lapsed lease as if nothing had happened and ran on with its queue set deleted, so a later
/// takeover of it would move nothing (found by scripts/chaos).
@Suite(.serialized) struct HeartbeatRegistryTests {
    @Test func aBeatNeverPutsBackANodeTakenOutOfTheRegistry() throws {
        let ns = TestRedis.freshNamespace()
        let keys = KeySpace(namespace: ns)
        let node = try DemoNode(namespace: ns, queues: ["default:1"], nodeID: "beat-xx")
        let conn = try TestRedis.connection()
        var identity: String?
        try eventually("the node to be registered and beating") {
            identity = (try conn.command("SMEMBERS", keys.processes).array ?? []).compactMap(\.string).first { $0.hasPrefix("beat-xx:") }
            let registered = !(try conn.command("ZSCORE", keys.nodes, "beat-xx").isNull)
            return identity != nil && registered
        }
        _ = try conn.command("ZREM", keys.nodes, "beat-xx")
        let removedAt = Timestamp.now()
        try eventually("two more beats (0.5 s apart)") {
            (try conn.command("HGET", keys.process(identity!), "beat").double ?? 0) > removedAt + 0.6
        }
        #expect(try conn.command("ZSCORE", keys.nodes, "beat-xx").isNull, "a beat put the node back in the registry")
        #expect(node.stop() == 0)
    }
}
