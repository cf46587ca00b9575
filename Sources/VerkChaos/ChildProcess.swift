import Foundation

/// A process this run started (redis-server, a node's supervisor, the Ruby pusher, an `ip` command), with
/// posix_spawn: in a process group of its own, so a Ctrl-C at the terminal reaches only the driver, which
/// stops each child by its pid; with a clean signal mask (the driver blocks SIGINT and SIGTERM); output
/// to files, which cannot fill up and block it as pipes can. Only the Ruby pusher talks through pipes.
///
/// `@unchecked Sendable`: `status` is only touched under `lock`; the rest is immutable.
final class ChildProcess: @unchecked Sendable {
    let pid: pid_t
    let name: String
    /// With `pipes`: the driver's ends (write to the child's stdin, read its stdout).
    let stdinFD: Int32?
    let stdoutFD: Int32?
    private let lock = NSLock()
    private var status: Int32?

    /// `stdout`/`stderr` are files (appended to); with `pipes`, stdin and stdout are pipes instead. With
    /// `directory`, it runs there (through `env -C`, which execs it: the pid stays the program's; Swift's
    /// Glibc has no posix_spawn_file_actions_addchdir_np).
    init(name: String, _ program: String, _ programArgs: [String], environment: [String: String], directory: String? = nil,
         stdout: String = "/dev/null", stderr: String = "/dev/null", pipes: Bool = false) throws {
        self.name = name
        let path = directory == nil ? program : "/usr/bin/env"
        let args = directory.map { ["-C", $0, program] + programArgs } ?? programArgs
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        var toChild: [Int32] = [-1, -1], fromChild: [Int32] = [-1, -1]
        if pipes {
            guard pipe(&toChild) == 0, pipe(&fromChild) == 0 else { throw ChaosError.setup("pipe: \(String(cString: strerror(errno)))") }
            for fd in [toChild[1], fromChild[0]] { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
            posix_spawn_file_actions_adddup2(&actions, toChild[0], 0)
            posix_spawn_file_actions_adddup2(&actions, fromChild[1], 1)
            posix_spawn_file_actions_addclose(&actions, toChild[0])
            posix_spawn_file_actions_addclose(&actions, fromChild[1])
        } else {
            posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
            posix_spawn_file_actions_addopen(&actions, 1, stdout, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        }
        posix_spawn_file_actions_addopen(&actions, 2, stderr, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        var attr = posix_spawnattr_t()
        posix_spawnattr_init(&attr)
        defer { posix_spawnattr_destroy(&attr) }
        var empty = sigset_t(), defaults = sigset_t()
        sigemptyset(&empty)
        sigfillset(&defaults)
        posix_spawnattr_setsigmask(&attr, &empty)
        posix_spawnattr_setsigdefault(&attr, &defaults)
        posix_spawnattr_setpgroup(&attr, 0)
        posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP))
        let argv = ([path] + args).map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, path, &actions, &attr, argv, envp)
        if pipes {
            close(toChild[0])
            close(fromChild[1])
        }
        guard rc == 0 else {
            if pipes { close(toChild[1]); close(fromChild[0]) }
            throw ChaosError.setup("cannot start \(program): \(String(cString: strerror(rc)))")
        }
        self.pid = pid
        stdinFD = pipes ? toChild[1] : nil
        stdoutFD = pipes ? fromChild[0] : nil
    }

    /// The exit code, or 128 + the signal, once it has exited (reaped here: it is our child).
    var exitStatus: Int32? {
        lock.lock()
        defer { lock.unlock() }
        if let status { return status }
        var raw: Int32 = 0
        guard waitpid(pid, &raw, WNOHANG) == pid else { return nil }
        status = Self.decode(raw)
        return status
    }

    var isRunning: Bool { exitStatus == nil }

    func signal(_ sig: Int32) {
        lock.lock()
        defer { lock.unlock() }
        if status == nil { kill(pid, sig) }
    }

    /// Waits up to `timeout` seconds for it to exit; its status, or nil if it is still running.
    @discardableResult
    func wait(timeout: Double) -> Int32? {
        let deadline = Clock.now() + timeout
        repeat {
            if let s = exitStatus { return s }
            usleep(2_000)
        } while Clock.now() < deadline
        return exitStatus
    }

    /// SIGTERM, `grace` seconds, then SIGKILL: every process this run starts ends here, by its pid.
    @discardableResult
    func stop(grace: Double = 5) -> Int32? {
        if let s = exitStatus { return s }
        signal(SIGTERM)
        if let s = wait(timeout: grace) { return s }
        signal(SIGKILL)
        return wait(timeout: 10)
    }

    func closePipes() {
        if let stdinFD { close(stdinFD) }
        if let stdoutFD { close(stdoutFD) }
    }

    static func decode(_ raw: Int32) -> Int32 { (raw & 0x7F) == 0 ? (raw >> 8) & 0xFF : 128 + (raw & 0x7F) }

    /// Runs a short command to its end (bounded by `timeout`); its exit status and what it wrote on stderr.
    static func run(_ path: String, _ args: [String], timeout: Double = 20, environment: [String: String] = ProcessInfo.processInfo.environment,
                    scratch: String) throws -> (status: Int32, stderr: String) {
        let errPath = scratch + "/cmd-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).err"
        defer { unlink(errPath) }
        let child = try ChildProcess(name: (path as NSString).lastPathComponent, path, args, environment: environment, stderr: errPath)
        guard let status = child.wait(timeout: timeout) ?? child.stop(grace: 1) else {
            throw ChaosError.setup("\(path) \(args.joined(separator: " ")) did not end")
        }
        let err = (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? ""
        return (status, err.trimmingCharacters(in: .whitespacesAndNewlines))
    }
}

/// Seconds on a monotonic clock, for every duration the run measures and every deadline it keeps.
enum Clock {
    static func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }
}

enum ChaosError: Error, CustomStringConvertible {
    case setup(String)
    case interrupted

    var description: String {
        switch self {
        case .setup(let why): return why
        case .interrupted: return "interrupted"
        }
    }
}
