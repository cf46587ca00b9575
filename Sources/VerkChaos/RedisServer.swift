import Foundation
import VerkShared

/// The run's own redis-server: AOF with `appendfsync always` (a write is on disk before Redis answers
/// it, so a kill -9 and restart loses nothing acknowledged), listening on 127.0.0.1 and on the host end of
/// the partition's veth pair. The faults: kill -9 and restart on the same port and data, SIGSTOP/SIGCONT.
final class RedisServer {
    private(set) var port = 0
    let addresses: [String]
    let directory: String
    private var process: ChildProcess?
    private(set) var restarts = 0

    init(addresses: [String], directory: String) throws {
        self.addresses = addresses
        self.directory = directory
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var lastError: Error?
        // Another process can take a free port between our check and redis-server's bind: try another.
        for _ in 0..<5 {
            let candidate = try Self.freePort()
            do {
                port = candidate
                try start()
                return
            } catch {
                lastError = error
            }
        }
        throw lastError ?? ChaosError.setup("could not start redis-server")
    }

    var url: String { url(host: "127.0.0.1") }
    func url(host: String) -> String { "redis://\(host):\(port)/0" }
    var pid: pid_t? { process?.pid }

    func start() throws {
        let args = ["--port", "\(port)", "--bind"] + addresses + [
            // Loopback addresses and our own veth only: protected mode would refuse the namespaced node.
            "--protected-mode", "no", "--save", "", "--appendonly", "yes", "--appendfsync", "always",
            "--dir", directory, "--daemonize", "no", "--loglevel", "warning",
        ]
        let p = try ChildProcess(name: "redis-server", "/usr/bin/redis-server", args, environment: ProcessInfo.processInfo.environment,
                                 stdout: directory + "/redis.log", stderr: directory + "/redis.log")
        process = p
        let deadline = Clock.now() + 60  // an AOF of a long run takes a while to load
        while Clock.now() < deadline {
            if p.exitStatus != nil { throw ChaosError.setup("redis-server on port \(port) exited; see \(directory)/redis.log") }
            if (try? RedisConnection(url: url, name: "verk-chaos-probe").command("PING").string) == "PONG" { return }
            usleep(20_000)
        }
        throw ChaosError.setup("redis-server on port \(port) did not answer within 60 s")
    }

    /// kill -9, `down` seconds without Redis, then the same server on the same port and data.
    func crashAndRestart(down: Double) throws {
        guard let p = process else { return }
        p.signal(SIGKILL)
        guard p.wait(timeout: 10) != nil else { throw ChaosError.setup("redis-server \(p.pid) survived SIGKILL") }
        usleep(UInt32(down * 1e6))
        try start()
        restarts += 1
    }

    /// SIGSTOP for `seconds`, then SIGCONT: Redis answers nothing meanwhile, and then everything at once.
    func stall(seconds: Double) {
        guard let p = process else { return }
        p.signal(SIGSTOP)
        usleep(UInt32(seconds * 1e6))
        p.signal(SIGCONT)
    }

    func stop() {
        guard let p = process else { return }
        p.signal(SIGCONT)  // a stopped process would ignore SIGTERM until then
        p.stop(grace: 10)
        process = nil
    }

    /// A port that is free now, below the ephemeral range (32768+), so no outgoing connection takes it first.
    static func freePort() throws -> Int {
        for _ in 0..<200 {
            let port = Int.random(in: 20_000..<32_000)
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            defer { close(fd) }
            var addr = sockaddr_in()
            addr.sin_family = sa_family_t(AF_INET)
            addr.sin_port = in_port_t(UInt16(port).bigEndian)
            addr.sin_addr.s_addr = inet_addr("127.0.0.1")
            let bound = withUnsafePointer(to: &addr) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
            }
            if bound { return port }
        }
        throw ChaosError.setup("no free port in 20000..<32000")
    }
}
