import Foundation
import Testing
import VerkShared

/// A Redis master, its replica and `redis-sentinel`s watching them, on free loopback ports, each a process
/// this test starts and stops by pid. Configuration goes in files in a private directory: Sentinel refuses
/// to start without a config file it can rewrite, and Redis's CONFIG REWRITE (part of Sentinel's
/// reconfiguration of a server) needs one too.
final class SentinelCluster {
    let masterName = "mymaster"
    let dir: String
    let masterPassword: String?
    let sentinelPassword: String?
    /// redis.conf lines for every server (the replicas become masters in a failover).
    let serverSettings: [String]
    /// The port each server started on (the master first), and the sentinels' ports.
    private(set) var serverPorts: [Int] = []
    private(set) var sentinelPorts: [Int] = []
    private var processes: [Int: Spawned] = [:]

    /// `downAfter` and `failoverTimeout` in milliseconds: short, so that a failover takes seconds, not minutes.
    init(replicas: Int = 1, sentinels: Int = 3, quorum: Int = 2, downAfter: Int = 1000, failoverTimeout: Int = 5000,
         masterPassword: String? = nil, sentinelPassword: String? = nil, serverSettings: [String] = []) throws {
        guard FileManager.default.isExecutableFile(atPath: Self.sentinelBinary) else {
            throw TestFailure.process("\(Self.sentinelBinary) is missing: install Debian's redis-sentinel (scripts/test does)")
        }
        dir = NSTemporaryDirectory() + "verk-sentinel-" + JobID.generate().prefix(8)
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        self.masterPassword = masterPassword
        self.sentinelPassword = sentinelPassword
        self.serverSettings = serverSettings
        let master = try launch(Self.serverBinary, "redis") { self.serverConfig(port: $0, replicaOf: nil) }
        for _ in 0..<replicas {
            _ = try launch(Self.serverBinary, "redis") { self.serverConfig(port: $0, replicaOf: master) }
        }
        for _ in 0..<sentinels {
            sentinelPorts.append(try launch(Self.sentinelBinary, "sentinel") {
                self.sentinelConfig(port: $0, master: master, quorum: quorum, downAfter: downAfter, failoverTimeout: failoverTimeout)
            })
        }
    }

    deinit {
        for (_, process) in processes { process.signal(SIGTERM) }
        for (_, process) in processes { process.wait() }
        try? FileManager.default.removeItem(atPath: dir)
    }

    static let serverBinary = "/usr/bin/redis-server"
    static let sentinelBinary = "/usr/bin/redis-sentinel"

    /// `redis+sentinel://` for every sentinel, with the master's and the sentinels' passwords when set.
    func url(database: Int = 0, sentinels: [Int]? = nil) -> String {
        let auth = masterPassword.map { ":\($0)@" } ?? ""
        let hosts = (sentinels ?? sentinelPorts).map { "127.0.0.1:\($0)" }.joined(separator: ",")
        let query = sentinelPassword.map { "?sentinel_password=\($0)" } ?? ""
        return "redis+sentinel://\(auth)\(hosts)/\(masterName)/\(database)\(query)"
    }

    /// A plain connection to one server (not through Sentinel).
    func server(_ port: Int, database: Int = 0) throws -> RedisConnection {
        var config = try RedisConfiguration(url: "redis://127.0.0.1:\(port)/\(database)")
        config.password = masterPassword
        config.reconnectTimeout = 0
        return try RedisConnection(configuration: config, name: "verk-test-admin")
    }

    /// A plain connection to one sentinel.
    func sentinel(_ port: Int) throws -> RedisConnection {
        var config = try RedisConfiguration(url: "redis://127.0.0.1:\(port)/0")
        config.password = sentinelPassword
        config.reconnectTimeout = 0
        return try RedisConnection(configuration: config, name: "verk-test-admin")
    }

    /// The master's port as this sentinel names it.
    func masterPort(by sentinelPort: Int) throws -> Int? {
        try sentinel(sentinelPort).command("SENTINEL", "get-master-addr-by-name", masterName).array?.last?.int
    }

    /// Waits until the replica is in sync and every sentinel knows it as a healthy replica (SENTINEL
    /// FAILOVER refuses with NOGOODSLAVE before) and, with `quorum`, knows the other sentinels (an
    /// automatic failover needs their votes; they find each other through hello messages every 2 s).
    func waitUntilReady(quorum: Bool) throws {
        let replicaPorts = serverPorts.dropFirst()
        for replica in replicaPorts {
            try eventually(timeout: 20, "the replica on \(replica) to sync with the master") {
                (try server(replica).command("INFO", "replication").string ?? "").contains("master_link_status:up")
            }
        }
        for port in sentinelPorts {
            try eventually(timeout: 20, "sentinel \(port) to see every replica healthy") {
                let replicas = try sentinel(port).command("SENTINEL", "REPLICAS", masterName).array ?? []
                return replicas.map(Self.fields).filter { $0["flags"] == "slave" && $0["master-link-status"] == "ok" }.count == replicaPorts.count
            }
            if quorum {
                try eventually(timeout: 20, "sentinel \(port) to know the other sentinels") {
                    (try sentinel(port).command("SENTINEL", "SENTINELS", masterName).array ?? []).count == sentinelPorts.count - 1
                }
            }
        }
    }

    /// `SENTINEL FAILOVER`: promote the replica now, without the master being down.
    func forceFailover() throws {
        try eventually(timeout: 20, "SENTINEL FAILOVER to be accepted") {
            let reply = try sentinel(sentinelPorts[0]).send(RedisCommand("SENTINEL", "FAILOVER", masterName))
            return reply.errorMessage == nil
        }
    }

    /// Waits until every sentinel names a master other than `old`; its port.
    func waitForNewMaster(replacing old: Int, timeout: Double = 20) throws -> Int {
        var named: Int?
        try eventually(timeout: timeout, "every sentinel to name a new master") {
            let ports = try sentinelPorts.map { try masterPort(by: $0) }
            guard let first = ports.first, let port = first, port != old, ports.allSatisfy({ $0 == port }) else { return false }
            named = port
            return true
        }
        guard let named else { throw TestFailure.timeout("a new master") }
        return named
    }

    /// SIGKILL to a server: no shutdown, as a crash or a lost machine.
    func kill(server port: Int) {
        guard let process = processes[port] else { return }
        process.signal(SIGKILL)
        process.wait()
    }

    func isRunning(_ port: Int) -> Bool { processes[port].map { !$0.hasExited } ?? false }

    /// The names of the clients connected to a server.
    func clientNames(_ port: Int) throws -> [String] {
        let list = try server(port).command("CLIENT", "LIST").string ?? ""
        return list.split(separator: "\n").compactMap { line in line.firstMatch(of: /\bname=(\S*)/).map { String($0.1) } }
    }

    /// A server's and the sentinels' log tails, for a failure message.
    func logs() -> String {
        let files = (try? FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasSuffix(".log") }.sorted()) ?? []
        return files.map { name in
            let text = (try? String(contentsOfFile: dir + "/" + name, encoding: .utf8)) ?? ""
            return "--- \(name)\n" + text.split(separator: "\n").suffix(15).joined(separator: "\n")
        }.joined(separator: "\n")
    }

    // MARK: Processes

    /// Starts `binary` with the config `make(port)` writes, on a free port; retries another port if it
    /// exits (another process took the port between our check and its bind).
    private func launch(_ binary: String, _ kind: String, _ make: (Int) -> String) throws -> Int {
        for attempt in 1...5 {
            let port = try PrivateRedis.freePort()
            let path = "\(dir)/\(kind)-\(port).conf"
            try make(port).write(toFile: path, atomically: true, encoding: .utf8)
            let process = try Spawned(binary, [path])
            do {
                try eventually(timeout: 10, "\(kind) on \(port) to accept connections") {
                    if process.hasExited { throw TestFailure.process("\(kind) on \(port) exited: \(process.stdout) \(process.stderr)") }
                    return PrivateRedis.accepts(port: port)
                }
            } catch TestFailure.process(_) where attempt < 5 {
                continue
            }
            processes[port] = process
            if kind == "redis" { serverPorts.append(port) }
            return port
        }
        throw TestFailure.process("could not start \(kind)")
    }

    private func serverConfig(port: Int, replicaOf master: Int?) -> String {
        var lines = [
            "port \(port)", "bind 127.0.0.1", "save \"\"", "appendonly no", "dir \(dir)", "dbfilename dump-\(port).rdb",
            "logfile \(dir)/redis-\(port).log",
            // A replica syncs at once rather than after the diskless sync's default 5 s delay.
            "repl-diskless-sync-delay 0",
        ]
        if let masterPassword {
            // masterauth too: after a failover the old master becomes a replica of the new one.
            lines += ["requirepass \(masterPassword)", "masterauth \(masterPassword)"]
        }
        if let master { lines.append("replicaof 127.0.0.1 \(master)") }
        lines += serverSettings
        return lines.joined(separator: "\n") + "\n"
    }

    private func sentinelConfig(port: Int, master: Int, quorum: Int, downAfter: Int, failoverTimeout: Int) -> String {
        var lines = [
            "port \(port)", "bind 127.0.0.1", "dir \(dir)", "logfile \(dir)/sentinel-\(port).log",
            // Addresses stay numeric: on loopback every instance is 127.0.0.1 and must be told apart by port.
            "sentinel resolve-hostnames no", "sentinel announce-hostnames no",
            "sentinel monitor \(masterName) 127.0.0.1 \(master) \(quorum)",
            "sentinel down-after-milliseconds \(masterName) \(downAfter)",
            "sentinel failover-timeout \(masterName) \(failoverTimeout)",
            "sentinel parallel-syncs \(masterName) 1",
        ]
        if let masterPassword { lines.append("sentinel auth-pass \(masterName) \(masterPassword)") }
        if let sentinelPassword { lines.append("requirepass \(sentinelPassword)") }
        return lines.joined(separator: "\n") + "\n"
    }

    /// A flat `[key, value, …]` reply (SENTINEL REPLICAS entries) as a dictionary.
    static func fields(_ reply: RedisReply) -> [String: String] {
        let items = (reply.array ?? []).map { $0.string ?? "" }
        var fields: [String: String] = [:]
        for i in stride(from: 0, to: items.count - 1, by: 2) { fields[items[i]] = items[i + 1] }
        return fields
    }
}
