import Foundation

/// A network namespace of this run's own, joined to the host by a veth pair, so one node can be cut off
/// from Redis while everything else keeps running. Both ends get addresses inside 127.0.0.0/8 (a /30 of
/// 127.77.0.0/16 derived from the namespace name), so no traffic ever leaves loopback addresses: Linux
/// accepts 127/8 on a non-loopback interface with `route_localnet=1`; the namespace's own `lo` stays down
/// (its 127/8 local route would swallow the host's address), and on the host a /32 route in the `local`
/// table sends replies for the node's address down the veth rather than to `lo`.
///
/// A cut is a link taken down: on the node's side (its sends fail at once: no route) or on Redis's side
/// (the node's packets vanish silently until its socket timeouts fire).
final class NetworkPartition {
    enum Side: String { case node = "node side", redis = "Redis side" }

    let namespace: String
    let hostInterface: String
    let nodeInterface: String
    let hostAddress: String
    let nodeAddress: String
    private let scratch: String
    private(set) var isCut = false

    /// `namespace` is also the stem of the interface names (at most 13 characters: interface names have 15).
    init(namespace: String, scratch: String) throws {
        guard namespace.count <= 13, namespace.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" }) else {
            throw ChaosError.setup("network namespace name '\(namespace)' must be at most 13 letters, digits or '-'")
        }
        self.namespace = namespace
        self.scratch = scratch
        hostInterface = namespace + "h"
        nodeInterface = namespace + "n"
        var hash: UInt32 = 2_166_136_261
        for byte in namespace.utf8 { hash = (hash ^ UInt32(byte)) &* 16_777_619 }
        let third = (hash >> 8) & 0xFF, fourth = (hash & 0x3F) << 2
        hostAddress = "127.77.\(third).\(fourth + 1)"
        nodeAddress = "127.77.\(third).\(fourth + 2)"
    }

    /// Creates the namespace and the pair; fails with what `ip` said (no root, no netns support).
    func create() throws {
        try ip(["netns", "add", namespace])
        try ip(["link", "add", hostInterface, "type", "veth", "peer", "name", nodeInterface])
        try ip(["link", "set", nodeInterface, "netns", namespace])
        try writeSysctl("/proc/sys/net/ipv4/conf/\(hostInterface)/route_localnet", "1")
        try ip(["addr", "add", hostAddress + "/30", "dev", hostInterface])
        try ip(["link", "set", hostInterface, "up"])
        try ip(["route", "replace", nodeAddress + "/32", "dev", hostInterface, "table", "local"])
        // /proc/sys/net is the namespace of whoever opens it: the write runs inside the namespace.
        try ip(["netns", "exec", namespace, "/bin/sh", "-c", "echo 1 > /proc/sys/net/ipv4/conf/\(nodeInterface)/route_localnet"])
        try ip(["-n", namespace, "addr", "add", nodeAddress + "/30", "dev", nodeInterface])
        try ip(["-n", namespace, "link", "set", nodeInterface, "up"])
    }

    /// The argv prefix that runs a program inside the namespace (the pid stays the program's: `ip` execs it).
    var execPrefix: [String] { ["/usr/sbin/ip", "netns", "exec", namespace] }

    func cut(_ side: Side) throws {
        switch side {
        case .node: try ip(["-n", namespace, "link", "set", nodeInterface, "down"])
        case .redis: try ip(["link", "set", hostInterface, "down"])
        }
        isCut = true
    }

    func restore() throws {
        try ip(["-n", namespace, "link", "set", nodeInterface, "up"])
        try ip(["link", "set", hostInterface, "up"])
        // Taking the host end down flushed the route through it.
        try ip(["route", "replace", nodeAddress + "/32", "dev", hostInterface, "table", "local"])
        isCut = false
    }

    /// Removes the namespace and the pair, by name; safe to call twice and after a partial `create`.
    func destroy() {
        _ = try? ChildProcess.run("/usr/sbin/ip", ["netns", "del", namespace], scratch: scratch)
        _ = try? ChildProcess.run("/usr/sbin/ip", ["link", "del", hostInterface], scratch: scratch)
    }

    private func ip(_ args: [String]) throws {
        let result = try ChildProcess.run("/usr/sbin/ip", args, scratch: scratch)
        guard result.status == 0 else {
            throw ChaosError.setup("ip \(args.joined(separator: " ")) failed (\(result.status)): \(result.stderr)")
        }
    }

    private func writeSysctl(_ path: String, _ value: String) throws {
        guard let handle = FileHandle(forWritingAtPath: path) else { throw ChaosError.setup("cannot write \(path)") }
        defer { try? handle.close() }
        try handle.write(contentsOf: Data(value.utf8))
    }
}
