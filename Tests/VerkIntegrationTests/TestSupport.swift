import Foundation
import Testing
import VerkShared

/// The Redis that scripts/test started for this run.
enum TestRedis {
    static var url: String {
        ProcessInfo.processInfo.environment["VERK_TEST_REDIS_URL"]
            ?? ProcessInfo.processInfo.environment["VERK_REDIS_URL"] ?? "redis://127.0.0.1:6379/0"
    }

    /// A namespace no other test uses, so tests never see each other's keys.
    static func freshNamespace(_ label: String = "t") -> String {
        "\(label)-\(JobID.generate().prefix(10))"
    }

    static func connection() throws -> RedisConnection { try RedisConnection(url: url, name: "verk-test") }
}

/// Polls `condition` until it holds or the deadline passes: tests never sleep a guessed time.
func eventually(
    timeout: Double = 20, _ what: String, sourceLocation: SourceLocation = #_sourceLocation, _ condition: () throws -> Bool
) throws {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        if try condition() { return }
        Thread.sleep(forTimeInterval: 0.01)  // the pause inside a poll-until-deadline loop
    }
    Issue.record("timed out after \(timeout)s waiting for: \(what)", sourceLocation: sourceLocation)
    throw TestFailure.timeout(what)
}

enum TestFailure: Error { case timeout(String), process(String) }

/// The result of running a program to completion.
struct ProcessResult {
    var status: Int32
    var stdout: String
    var stderr: String
}

/// A child process started with posix_spawn, output to files: Foundation's Process can hang in
/// waitUntilExit, and files cannot fill up and block the child the way pipes can.
final class Spawned {
    let pid: pid_t
    let stdoutPath: String
    let stderrPath: String
    private(set) var status: Int32?

    init(_ path: String, _ args: [String], env: [String: String] = [:], stdinPath: String = "/dev/null") throws {
        let base = NSTemporaryDirectory() + "verk-test-" + JobID.generate().prefix(12)
        stdoutPath = base + ".out"
        stderrPath = base + ".err"
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, stdinPath, O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, stdoutPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_addopen(&actions, 2, stderrPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        let environment = ProcessInfo.processInfo.environment.merging(env) { $1 }.map { "\($0.key)=\($0.value)" }
        let argv = ([path] + args).map { strdup($0) } + [nil]
        let envp = environment.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) }; envp.forEach { free($0) } }
        // The test runner blocks some signals; a child must start with a clean mask or it ignores SIGTERM.
        var attr = posix_spawnattr_t()
        posix_spawnattr_init(&attr)
        defer { posix_spawnattr_destroy(&attr) }
        var empty = sigset_t(), defaults = sigset_t()
        sigemptyset(&empty)
        sigfillset(&defaults)
        posix_spawnattr_setsigmask(&attr, &empty)
        posix_spawnattr_setsigdefault(&attr, &defaults)
        posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, path, &actions, &attr, argv, envp)
        guard rc == 0 else { throw TestFailure.process("cannot spawn \(path): \(String(cString: strerror(rc)))") }
        self.pid = pid
    }

    /// Waits for exit; the exit code, or 128 + signal.
    @discardableResult
    func wait() -> Int32 {
        if let status { return status }
        var raw: Int32 = 0
        while waitpid(pid, &raw, 0) < 0 && errno == EINTR {}
        let s = (raw & 0x7F) == 0 ? (raw >> 8) & 0xFF : 128 + (raw & 0x7F)
        status = s
        return s
    }

    /// Non-blocking: has it exited?
    var hasExited: Bool {
        if status != nil { return true }
        var raw: Int32 = 0
        guard waitpid(pid, &raw, WNOHANG) == pid else { return false }
        status = (raw & 0x7F) == 0 ? (raw >> 8) & 0xFF : 128 + (raw & 0x7F)
        return true
    }

    func signal(_ sig: Int32) { if status == nil { kill(pid, sig) } }

    var stdout: String { (try? String(contentsOfFile: stdoutPath, encoding: .utf8)) ?? "" }
    var stderr: String { (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? "" }

    deinit {
        if status == nil { kill(pid, SIGKILL); wait() }
        unlink(stdoutPath)
        unlink(stderrPath)
    }
}

/// Runs a program to completion with the given environment additions.
func runProcess(_ path: String, _ args: [String], env: [String: String] = [:]) throws -> ProcessResult {
    let p = try Spawned(path, args, env: env)
    let status = p.wait()
    return ProcessResult(status: status, stdout: p.stdout, stderr: p.stderr)
}

/// Where the built executables are (scripts/test exports VERK_BIN_DIR; otherwise next to the test bundle).
enum Binaries {
    static var dir: String {
        if let d = ProcessInfo.processInfo.environment["VERK_BIN_DIR"] { return d }
        var url = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        while url.path != "/" && !FileManager.default.fileExists(atPath: url.appendingPathComponent("verk").path) {
            url = url.deletingLastPathComponent()
        }
        return url.path
    }
    static var verk: String { dir + "/verk" }
    static var demo: String { dir + "/verk-demo" }

    static func verk(_ args: [String], env: [String: String] = [:]) throws -> ProcessResult {
        try runProcess(verk, args, env: ["VERK_REDIS_URL": TestRedis.url].merging(env) { $1 })
    }
}

/// Ruby Sidekiq 6.4 (Debian's ruby-sidekiq) as the oracle: a script runs with a configured client and
/// prints JSON on its last line.
enum Sidekiq {
    static func run(_ body: String, namespace: String?, url: String = TestRedis.url) throws -> String {
        let script = """
            require 'sidekiq'
            require 'sidekiq/api'
            require 'json'
            Sidekiq.logger.level = Logger::WARN
            cfg = { url: ENV.fetch('REDIS_URL') }
            cfg[:namespace] = ENV['NS'] if ENV['NS'] && !ENV['NS'].empty?
            Sidekiq.configure_client { |c| c.redis = cfg }
            \(body)
            """
        var env = ["REDIS_URL": url]
        env["NS"] = namespace ?? ""
        let result = try runProcess("/usr/bin/ruby", ["-e", script], env: env)
        guard result.status == 0 else {
            throw TestFailure.process("ruby failed (\(result.status)): \(result.stderr)")
        }
        return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Runs `body` and parses its last output line as JSON.
    static func json(_ body: String, namespace: String?, url: String = TestRedis.url) throws -> JSONValue {
        let out = try run(body, namespace: namespace, url: url)
        let last = out.split(separator: "\n").last.map(String.init) ?? ""
        return try JSONParser.parse(last)
    }
}

/// A private redis-server this test starts, restarts and stops (for reconnect and ACL tests).
final class PrivateRedis {
    private(set) var port: Int
    let dir: String
    let extraArgs: [String]
    private var process: Spawned?

    init(extraArgs: [String] = []) throws {
        dir = NSTemporaryDirectory() + "verk-private-redis-" + JobID.generate().prefix(8)
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        self.extraArgs = extraArgs
        port = try PrivateRedis.freePort()
        // Another process can take a free port between our check and redis-server's bind: try another.
        for attempt in 1...5 {
            do {
                try start()
                return
            } catch TestFailure.process(let why) where why.contains("exited") && attempt < 5 {
                port = try PrivateRedis.freePort()
            }
        }
    }

    var url: String { "redis://127.0.0.1:\(port)/0" }

    func start() throws {
        let p = try Spawned("/usr/bin/redis-server", ["--port", "\(port)", "--bind", "127.0.0.1", "--save", "",
                                                      "--appendonly", "no", "--dir", dir, "--loglevel", "warning"] + extraArgs)
        process = p
        try eventually(timeout: 10, "private redis-server on \(port) to accept connections") {
            if p.hasExited { throw TestFailure.process("redis-server on \(port) exited: \(p.stdout) \(p.stderr)") }
            return PrivateRedis.accepts(port: port)
        }
    }

    func stop() {
        guard let p = process else { return }
        p.signal(SIGTERM)
        p.wait()
        process = nil
    }

    deinit {
        stop()
        try? FileManager.default.removeItem(atPath: dir)
    }

    /// Runs `body` with a new TCP socket and the loopback address at `port` (`connect` or `bind`).
    static func withLoopback(port: Int, _ body: (Int32, UnsafePointer<sockaddr>, socklen_t) -> Int32) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
    }

    static func accepts(port: Int) -> Bool { withLoopback(port: port) { connect($0, $1, $2) } }

    /// A port that is free now, below the kernel's ephemeral range (32768+), so outgoing connections
    /// cannot take it before redis-server binds it.
    static func freePort() throws -> Int {
        for _ in 0..<200 {
            let port = Int.random(in: 20_000..<32_000)
            if withLoopback(port: port, { bind($0, $1, $2) }) { return port }
        }
        throw TestFailure.process("no free port in 20000..<32000")
    }
}
