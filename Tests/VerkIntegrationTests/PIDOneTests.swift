import Foundation
import Testing
import VerkShared

/// In the image (Dockerfile) the pod's PID 1 is tini, which starts the supervisor. These tests run the demo
/// node the same way without a container engine: PID 1 of a PID namespace of its own (`unshare`), as uid
/// 65532 with no new privileges, on a read-only root with a writable /tmp (statefulset.yaml's
/// securityContext and emptyDir). Orphans that jobs leave behind are re-parented to PID 1: tini reaps them,
/// the supervisor alone does not (it waits only on its own worker processes), which is why the image uses tini.
@Suite(.serialized, .enabled(if: geteuid() == 0, "needs root to make PID and mount namespaces (scripts/test runs as root)"))
struct PIDOneTests {
    @Test func tiniAsPIDOneReapsTheOrphansJobsLeave() throws {
        let ns = TestRedis.freshNamespace("pid1")
        let node = try PIDOneNode(tini: true, namespace: ns, queues: ["default:2"])
        let pid1 = try node.pid1()
        #expect(ProcTable.entry(pid1)?.command == "tini")
        let client = try VerkClient(url: TestRedis.url, namespace: ns)
        // What statefulset.yaml's probes and Prometheus ask, answered as the unprivileged user.
        try eventually("GET /healthz and /readyz to answer 200") {
            node.http("/healthz")?.status == 200 && node.http("/readyz")?.status == 200
        }
        #expect(node.http("/metrics").map { $0.status == 200 && $0.body.contains("verk_") } == true)

        try client.enqueue("OrphanWorker", args: [1000], queue: "default")
        let orphan = try node.orphan()
        try eventually("the orphaned sleep to be re-parented to PID 1 (tini)") { ProcTable.entry(orphan)?.ppid == pid1 }
        try eventually(timeout: 10, "the orphan to exit and be reaped, leaving no zombie") { ProcTable.entry(orphan) == nil }
        #expect(node.zombies().isEmpty, "no zombie anywhere in the node's PID namespace: \(node.zombies())")

        // scripts/check-deploy budgets 64 MiB for the supervisor in the container's memory limit.
        let supervisor = try #require(ProcTable.all().first { $0.ppid == pid1 && $0.command == "verk-demo" })
        let peakMiB = ProcTable.peakResidentKB(supervisor.pid) / 1024
        #expect(peakMiB > 0 && peakMiB < 64, "the supervisor's peak RSS is \(peakMiB) MiB")
        // Unprivileged, with no capabilities, a worker process can still make itself the OOM killer's choice.
        let worker = try #require(ProcTable.all().first { $0.ppid == supervisor.pid }, "a worker process (its command is `exe`: /proc/self/exe)")
        #expect(ProcTable.oomScoreAdjustment(worker.pid) == 1000)
        #expect(ProcTable.oomScoreAdjustment(supervisor.pid) == ProcTable.oomScoreAdjustment(getpid()), "the supervisor keeps what it inherited")
        #expect(node.stop() == 0)
    }

    @Test func sigtermToPIDOneDrainsTheNodeAndExitsZero() throws {
        let ns = TestRedis.freshNamespace("pid1")
        let shutdownTimeout = 3.0
        let node = try PIDOneNode(tini: true, namespace: ns, queues: ["default:2"], shutdownTimeout: shutdownTimeout)
        let client = try VerkClient(url: TestRedis.url, namespace: ns)
        let finishing = try client.enqueue("SleepWorker", args: [1500], queue: "default")
        let hanging = try client.enqueue("HangWorker", args: [], queue: "default")
        try eventually("both jobs to start") {
            node.process.stdout.contains("JobStarted queue=default jid=\(finishing)")
                && node.process.stdout.contains("JobStarted queue=default jid=\(hanging)")
        }

        let started = Date()
        kill(try node.pid1(), SIGTERM)  // what the kubelet does to the container's PID 1
        try eventually("/readyz to say the node is stopping while it drains") {
            node.http("/readyz").map { $0.status == 503 && $0.body.contains("stopping") } ?? false
        }
        let status = node.process.wait()
        let elapsed = Date().timeIntervalSince(started)
        #expect(status == 0, "PID 1's exit status, through tini: \(node.process.stderr)")
        #expect(node.process.stderr.contains("received SIGTERM; draining"), "tini forwarded SIGTERM to the supervisor")
        #expect(node.process.stdout.contains("JobFinished queue=default jid=\(finishing)"), "the running job finished")
        let redis = try TestRedis.connection()
        let keys = KeySpace(namespace: ns)
        let queued = (try redis.command("LRANGE", keys.queue("default"), 0, -1).array ?? []).compactMap(\.string)
        #expect(queued.contains { (try? JSONParser.parse($0))?["jid"]?.stringValue == hanging },
                "the job still running at the timeout is back in its queue")
        #expect((try redis.command("LLEN", keys.inProgress(queue: "default", node: node.nodeID)).int) == 0)
        // scripts/check-deploy wants terminationGracePeriodSeconds >= the shutdown timeout + 10 s.
        #expect(elapsed >= shutdownTimeout - 0.1 && elapsed < shutdownTimeout + 10, "stopped in \(elapsed) s")
    }

    @Test func withoutTiniTheSupervisorAsPIDOneDrainsButLeavesZombies() throws {
        let ns = TestRedis.freshNamespace("pid1")
        let node = try PIDOneNode(tini: false, namespace: ns, queues: ["default:2"])
        let pid1 = try node.pid1()
        #expect(ProcTable.entry(pid1)?.command == "verk-demo")
        let client = try VerkClient(url: TestRedis.url, namespace: ns)

        try client.enqueue("OrphanWorker", args: [100], queue: "default")
        let orphan = try node.orphan()
        try eventually("the orphan to exit and stay a zombie of PID 1 (the supervisor)") {
            ProcTable.entry(orphan).map { $0.state == "Z" && $0.ppid == pid1 } ?? false
        }
        // The node goes on working and never reaps it.
        let jid = try client.enqueue("NoopWorker", args: [], queue: "default")
        try eventually("a later job to finish") { node.process.stdout.contains("JobFinished queue=default jid=\(jid)") }
        #expect(ProcTable.entry(orphan)?.state == "Z")
        #expect(node.stop() == 0, "as PID 1 the supervisor still drains on SIGTERM: \(node.process.stderr)")
    }
}

/// A `verk-demo` node as PID 1 of a new PID namespace (under tini, or alone), in a new mount namespace
/// where / and the binary are read-only and /tmp is a fresh tmpfs, as uid and gid 65532 (the image's user).
final class PIDOneNode {
    let process: Spawned
    let nodeID = "pid1-" + JobID.generate().prefix(6)
    /// GET on the node's VERK_HTTP_PORT: /healthz, /readyz, /metrics.
    let http: HTTPGet

    init(tini: Bool, namespace: String, queues: [String], shutdownTimeout: Double = 10) throws {
        if tini {
            try #require(FileManager.default.isExecutableFile(atPath: "/usr/bin/tini"),
                         "tini is not installed (scripts/test installs it: apt-get install tini)")
        }
        // The mounts change only this mount namespace (unshare makes it private). The binary's folder is
        // bound read-only at /mnt, so the unprivileged user reaches it wherever the checkout is.
        let setup = """
            mount --bind "$VERK_PID1_BIN_DIR" /mnt && mount -o remount,bind,ro /mnt \
            && mount -o remount,bind,ro / && mount -t tmpfs -o size=64m,mode=1777 tmpfs /tmp \
            && exec setpriv --reuid=65532 --regid=65532 --clear-groups --no-new-privs -- "$@"
            """
        http = HTTPGet(port: try PrivateRedis.freePort())
        var args = ["--pid", "--fork", "--mount-proc", "--", "/bin/sh", "-c", setup, "sh"]
        if tini { args += ["/usr/bin/tini", "--"] }
        args += ["/mnt/verk-demo", "--node-id", nodeID, "--shutdown-timeout", "\(shutdownTimeout)",
                 "--poll-interval", "0.1", "--print-events"]
        for q in queues { args += ["--queue", q] }
        process = try Spawned("/usr/bin/unshare", args, env: [
            "VERK_PID1_BIN_DIR": Binaries.dir, "VERK_REDIS_URL": TestRedis.url, "VERK_NAMESPACE": namespace,
            "VERK_LOG_LEVEL": "info", "VERK_HTTP_PORT": "\(http.port)",
        ])
        let expected = queues.count
        try eventually("every worker process of the PID 1 node to start") {
            if process.hasExited { throw TestFailure.process("the PID 1 node exited (\(process.wait())): \(process.stderr)") }
            return process.stderr.components(separatedBy: "worker process started").count - 1 >= expected
        }
    }

    /// The host's pid of the namespace's PID 1: unshare's only child.
    func pid1() throws -> Int32 {
        var found: Int32?
        try eventually("PID 1 of the node's namespace") {
            found = ProcTable.all().first { $0.ppid == process.pid }?.pid
            return found != nil
        }
        return found!
    }

    /// The host's pid of the `sleep` an OrphanWorker job left, from the namespace pid it printed.
    func orphan() throws -> Int32 {
        var nsPID: Int32?
        try eventually("the job to print its orphan's pid") {
            nsPID = process.stdout.firstMatch(of: /orphan pid (\d+)/).flatMap { Int32($0.1) }
            return nsPID != nil
        }
        let entry = try #require(descendants().first { $0.nsPID == nsPID && $0.command == "sleep" },
                                 "the orphan (pid \(nsPID!) in the namespace) is gone already: give it a longer sleep")
        return entry.pid
    }

    func descendants() -> [ProcEntry] { ProcTable.descendants(of: process.pid) }

    func zombies() -> [ProcEntry] { descendants().filter { $0.state == "Z" } }

    /// SIGTERM to PID 1, as the kubelet sends it; then PID 1's exit status (unshare exits with it).
    @discardableResult
    func stop() -> Int32 {
        if let pid = try? pid1() { kill(pid, SIGTERM) }
        return process.wait()
    }
}

/// A process as /proc shows it in the test's PID namespace.
struct ProcEntry: CustomStringConvertible {
    let pid: Int32
    let ppid: Int32
    let state: Character
    let command: String
    /// Its pid in its own (innermost) PID namespace.
    let nsPID: Int32?

    var description: String { "\(pid) (\(command)) \(state) ppid=\(ppid)" }
}

enum ProcTable {
    static func entry(_ pid: Int32) -> ProcEntry? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let open = stat.firstIndex(of: "("), let close = stat.lastIndex(of: ")") else { return nil }
        // "pid (comm) state ppid …": comm may hold spaces and parentheses.
        let rest = stat[stat.index(after: close)...].split(separator: " ")
        guard rest.count >= 2, let state = rest[0].first, let ppid = Int32(rest[1]) else { return nil }
        let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
        let nsPID = status.split(separator: "\n").first { $0.hasPrefix("NSpid:") }?
            .split(whereSeparator: { $0 == "\t" || $0 == " " }).last.flatMap { Int32($0) }
        return ProcEntry(pid: pid, ppid: ppid, state: state, command: String(stat[stat.index(after: open)..<close]), nsPID: nsPID)
    }

    static func all() -> [ProcEntry] {
        ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).compactMap { Int32($0) }.compactMap(entry)
    }

    static func descendants(of root: Int32) -> [ProcEntry] {
        let entries = all()
        var found: [ProcEntry] = []
        var seen: Set<Int32> = [root]
        var parents: Set<Int32> = [root]
        while !parents.isEmpty {
            let next = entries.filter { parents.contains($0.ppid) && !seen.contains($0.pid) }
            found += next
            parents = Set(next.map(\.pid))
            seen.formUnion(parents)
        }
        return found
    }

    static func oomScoreAdjustment(_ pid: Int32) -> Int? {
        (try? String(contentsOfFile: "/proc/\(pid)/oom_score_adj", encoding: .utf8)).flatMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
    }

    /// VmHWM: the most resident memory the process has had, in KB.
    static func peakResidentKB(_ pid: Int32) -> Int {
        let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
        let line = status.split(separator: "\n").first { $0.hasPrefix("VmHWM:") } ?? ""
        return line.split(whereSeparator: { $0 == " " || $0 == "\t" }).dropFirst().first.flatMap { Int($0) } ?? 0  // "VmHWM:\t 12345 kB"
    }
}
