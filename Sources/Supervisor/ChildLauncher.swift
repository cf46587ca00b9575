import CVerkSystem
import FoundationEssentials
import Glibc
import VerkShared

/// Starts a worker process: the running executable itself (`/proc/self/exe`, which stays valid even if a
/// deploy replaces the file), with one end of a socketpair as fd 3, every other fd closed, a clean signal
/// mask, and the role in its environment. Call only from a long-lived thread: PR_SET_PDEATHSIG fires when
/// the spawning *thread* exits.
enum ChildLauncher {
    struct Launched {
        let pid: pid_t
        let socket: Int32
        let pidfd: Int32
        /// Which jobs its threads run, readable after it dies (nil if shared memory was refused).
        var startMarks: StartMarks? = nil
    }

    static func launch(queue: QueueConfiguration) throws -> Launched {
        var fds: [Int32] = [0, 0]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &fds) == 0 else {
            throw LaunchError.socketpair(errno)
        }
        let (parentEnd, childEnd) = (fds[0], fds[1])
        defer { close(childEnd) }
        let shared = try? StartMarks.create(slots: queue.concurrency)
        defer { if let fd = shared?.fd { close(fd) } }
        var environment = ProcessInfo.processInfo.environment
        for name in CommandLineSecrets.supervisorOnlyVariables { environment[name] = nil }
        environment[WorkerSpawnContract.queueVariable] = queue.name
        environment[WorkerSpawnContract.concurrencyVariable] = String(queue.concurrency)
        environment[WorkerSpawnContract.parentPIDVariable] = String(getpid())
        if shared == nil { environment[WorkerSpawnContract.startMarksVariable] = nil } else { environment[WorkerSpawnContract.startMarksVariable] = "1" }
        let argv = CommandLineSecrets.redacted(CommandLine.arguments).map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var pid: pid_t = 0
        let rc = verk_spawn_child("/proc/self/exe", argv, envp, childEnd, shared?.fd ?? -1, &pid)
        guard rc == 0 else {
            close(parentEnd)
            throw LaunchError.spawn(rc)
        }
        FrameSocket.setNonBlocking(parentEnd)
        let pidfd = verk_pidfd_open(pid)
        return Launched(pid: pid, socket: parentEnd, pidfd: pidfd, startMarks: shared?.marks)
    }

    enum LaunchError: Error, CustomStringConvertible {
        case socketpair(Int32)
        case spawn(Int32)

        var description: String {
            switch self {
            case .socketpair(let e): return "socketpair failed: \(String(cString: strerror(e)))"
            case .spawn(let e): return "posix_spawn of /proc/self/exe failed: \(String(cString: strerror(e)))"
            }
        }
    }
}
