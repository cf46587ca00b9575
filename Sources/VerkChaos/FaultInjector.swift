import CVerkSystem
import Foundation

/// One fault as it happened: when it began and ended (on the driver's clock), which node incarnation it
/// hit (nil: all of them, as Redis faults do), and what was seen.
struct FaultRecord {
    let kind: FaultKind
    let target: String?
    let start: Double
    let end: Double
    let longerThanLease: Bool
    /// A partition over the lease during which a live node took the cut-off one over.
    var takenOver = false
    let byKill: Bool
    let detail: String
    /// A partition's end: the link back up (the node may run on past it, until it notices its lease gone).
    var restoredAt: Double? = nil
}

/// Runs the schedule, one fault at a time, against the cluster; records what happened, and what must fail
/// the run (a node that kept running without its lease, a worker process that outlived its supervisor).
final class FaultInjector {
    private let cluster: Cluster
    private let stream: JobStream
    private let say: (String) -> Void
    private let started: Double
    private(set) var records: [FaultRecord] = []
    private(set) var failures: [String] = []
    /// For each worker process of a supervisor killed with -9: milliseconds from the kill to its end.
    private(set) var orphanLifetimes: [Double] = []
    /// How they ended: "SIGKILL" is PR_SET_PDEATHSIG's doing, "exit 0" the socket's EOF.
    private(set) var orphanEnds: [String: Int] = [:]

    init(cluster: Cluster, stream: JobStream, started: Double, say: @escaping (String) -> Void) {
        self.cluster = cluster
        self.stream = stream
        self.started = started
        self.say = say
    }

    /// Runs `plan` until `windowEnd` (the extras), or to its end (the required faults); then more extras
    /// while the window lasts.
    func run(_ plan: [PlannedFault], windowEnd: Double, extra: () -> PlannedFault) throws {
        var more = plan.makeIterator()
        for _ in 0..<100_000 {
            guard let fault = more.next() ?? (Clock.now() < windowEnd ? extra() : nil) else { break }
            if !fault.required && Clock.now() + fault.gapBefore >= windowEnd { continue }
            try cluster.pause(fault.gapBefore)
            cluster.timeline.sample()
            switch fault.kind {
            case .workerKill: killWorker(fault)
            case .supervisorKill: try killSupervisor(fault)
            case .redisRestart: try restartRedis(fault)
            case .redisStall: try stallRedis(fault)
            case .nodeJoinLeave: try joinAndLeave(fault)
            case .partition: try partition(fault)
            }
            cluster.timeline.sample()
        }
    }

    private func note(_ kind: FaultKind, target: String?, start: Double, end: Double = Clock.now(), long: Bool = false,
                      takenOver: Bool = false, byKill: Bool = false, restoredAt: Double? = nil, _ detail: String) {
        records.append(FaultRecord(kind: kind, target: target, start: start, end: end, longerThanLease: long, takenOver: takenOver,
                                   byKill: byKill, detail: detail, restoredAt: restoredAt))
        say(String(format: "[%6.1fs] %@ %@", start - started, kind.rawValue, detail))
    }

    private func killWorker(_ fault: PlannedFault) {
        let candidates = cluster.nodes.filter(\.isRunning).flatMap { node in node.workerPIDs.map { (node, $0) } }
        guard !candidates.isEmpty else { return say("  (no worker process to kill)") }
        let (node, pid) = candidates[Int(fault.pick % UInt64(candidates.count))]
        let start = Clock.now()
        kill(pid, SIGKILL)
        note(.workerKill, target: cluster.label(node), start: start, end: start, "kill -9 of worker process \(pid) of \(cluster.label(node))")
    }

    /// kill -9 of a supervisor, its worker processes timed to their end (a pidfd is readable once its
    /// process has exited), then a restart under the same id, which waits for the old lease to lapse.
    private func killSupervisor(_ fault: PlannedFault) throws {
        let node = [cluster.a, cluster.p].filter(\.isRunning)[safe: Int(fault.pick % 2)] ?? cluster.a
        guard let process = node.process, process.isRunning else { return }
        let label = cluster.label(node)
        let workers = node.workerPIDs
        var watched = workers.map { (pid: $0, fd: verk_pidfd_open($0)) }.filter { $0.fd >= 0 }
        node.wanted = false
        let start = Clock.now()
        process.signal(SIGKILL)
        var lifetimes: [Double] = []
        let deadline = start + 5
        while !watched.isEmpty && Clock.now() < deadline {
            var fds = watched.map { pollfd(fd: $0.fd, events: Int16(POLLIN), revents: 0) }
            _ = poll(&fds, nfds_t(fds.count), 100)
            let now = Clock.now()
            for (i, fd) in fds.enumerated().reversed() where fd.revents != 0 {
                lifetimes.append((now - start) * 1000)
                orphanEnds[Self.howItEnded(watched[i].pid), default: 0] += 1
                close(watched[i].fd)
                watched.remove(at: i)
            }
        }
        for survivor in watched {
            failures.append("worker process \(survivor.pid) of \(label) was still alive 5 s after kill -9 of its supervisor")
            kill(survivor.pid, SIGKILL)
            close(survivor.fd)
        }
        orphanLifetimes += lifetimes
        process.wait(timeout: 10)
        try cluster.start(node)
        let serving = try cluster.waitServing(node)
        let window = lifetimes.max().map { String(format: "%.1f ms", $0) } ?? "-"
        note(.supervisorKill, target: label, start: start, end: start,
             String(format: "kill -9 of %@ (worker processes gone after at most %@); %@ serving again after %.1f s", label, window,
                    cluster.label(node), Clock.now() - start) + (serving ? "" : " — NOT serving"))
        if !serving { failures.append("\(cluster.label(node)) did not serve within 30 s of its restart") }
    }

    static func count(_ text: String, _ needle: String) -> Int { text.components(separatedBy: needle).count - 1 }

    /// How an exited process ended, read from its zombie's /proc/PID/stat (field 52, `exit_code`, as
    /// waitpid reports it) before init reaps it: we are not its parent, so waitpid cannot tell us.
    static func howItEnded(_ pid: pid_t) -> String {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return "reaped before it was read" }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count >= 50, let raw = Int32(fields[49].trimmingCharacters(in: .whitespacesAndNewlines)) else { return "unknown" }
        let signal = raw & 0x7F
        return signal == 0 ? "exit \((raw >> 8) & 0xFF)" : (signal == SIGKILL ? "SIGKILL" : "signal \(signal)")
    }

    private func restartRedis(_ fault: PlannedFault) throws {
        stream.hold()
        let start = Clock.now()
        try cluster.redis.crashAndRestart(down: fault.duration)
        let back = Clock.now()
        try stream.release()
        note(.redisRestart, target: nil, start: start, end: back,
             String(format: "kill -9 of redis-server, %.1f s down, restarted from its AOF in %.1f s", fault.duration, back - start))
    }

    private func stallRedis(_ fault: PlannedFault) throws {
        stream.hold()
        let start = Clock.now()
        cluster.redis.stall(seconds: fault.duration)
        let end = Clock.now()
        try stream.release()
        note(.redisStall, target: nil, start: start, end: end, String(format: "SIGSTOP of redis-server for %.2f s, then SIGCONT", fault.duration))
    }

    private func joinAndLeave(_ fault: PlannedFault) throws {
        let node = cluster.b
        try cluster.start(node)
        let label = cluster.label(node)
        let joined = Clock.now()
        guard try cluster.waitServing(node) else {
            failures.append("\(label) did not serve within 30 s of joining")
            return
        }
        try cluster.pause(fault.duration)
        node.wanted = false
        let start = Clock.now()
        let how: String
        if fault.byKill {
            node.process?.signal(SIGKILL)
            node.process?.wait(timeout: 10)
            how = "left by kill -9 (its jobs wait for a takeover)"
        } else {
            node.process?.signal(SIGTERM)
            let status = node.process?.wait(timeout: 15)
            how = "left by SIGTERM (exit \(status.map(String.init) ?? "none"))"
            if status != 0 { failures.append("\(label) did not drain and exit 0 on SIGTERM (status \(status.map(String.init) ?? "none"))") }
        }
        note(.nodeJoinLeave, target: label, start: start, end: Clock.now(), byKill: fault.byKill,
             String(format: "%@ joined, served %.1f s, %@", label, start - joined, how))
    }

    /// Cuts `chaos-p` off from Redis. Under the lease it must ride the cut out; over it, it must stop
    /// (exit 1) if another node took it over meanwhile, and is then restarted under its id, or else take
    /// its lapsed lease again and run on.
    private func partition(_ fault: PlannedFault) throws {
        let node = cluster.p
        if !node.isRunning {
            try cluster.start(node)
            _ = try cluster.waitServing(node)
        }
        let label = cluster.label(node)
        node.wanted = false
        let log = node.log()
        let logMarks = (retaken: Self.count(log, "was taken again"), expired: Self.count(log, "lease expired"),
                        takeovers: cluster.takeovers(of: node.id))
        let start = Clock.now()
        try cluster.partition.cut(fault.side)
        try cluster.pause(fault.duration)
        try cluster.partition.restore()
        let restored = Clock.now()
        var outcome: String
        if fault.long {
            // Its lease has lapsed. Taken over meanwhile (a live node's beat found it dead after the node
            // expiry), it must find that out and stop (exit 1); if not, it takes its lease again and runs on.
            let deadline = Clock.now() + 45
            var retook = false, status: Int32?
            while Clock.now() < deadline {
                status = node.process?.exitStatus
                if status != nil { break }
                if Self.count(node.log(), "was taken again") > logMarks.retaken { retook = true; break }
                try cluster.pause(0.05)
            }
            if retook { try cluster.pause(2 * ChaosNode.heartbeat) }  // a takeover racing the retake would show by now
            let takenOver = cluster.takeovers(of: node.id) > logMarks.takeovers
            let stoppedItself = status == 1 && Self.count(node.log(), "lease expired") > logMarks.expired
            if stoppedItself {
                outcome = String(format: "taken over, it stopped itself %.1f s after the link came back (exit 1, lease lost)", Clock.now() - restored)
                if !takenOver { failures.append("\(label) stopped after a partition although no node had taken it over") }
            } else if retook && node.isRunning && !takenOver {
                outcome = "retook its lapsed lease (nobody had taken it over) and runs on"
            } else {
                outcome = status.map { "exited with status \($0)" } ?? (retook ? "retook its lease" : "neither stopped nor retook its lease within 45 s")
                    + (takenOver ? " although it was taken over" : "")
                failures.append("\(label) cut off for \(String(format: "%.1f", fault.duration)) s (over its lease): \(outcome)")
            }
            let end = Clock.now()
            if !retook || !node.isRunning {
                node.process?.stop(grace: 5)
                try cluster.start(node)
                _ = try cluster.waitServing(node)
            }
            node.wanted = true
            note(.partition, target: label, start: start, end: end, long: true, takenOver: takenOver, restoredAt: restored,
                 String(format: "%@ cut off for %.1f s (%@, over the lease): %@", label, fault.duration, fault.side.rawValue, outcome))
        } else {
            // A node that lost its lease finds out at its next beat once Redis answers again: wait two.
            try cluster.pause(2 * ChaosNode.heartbeat)
            outcome = node.isRunning ? "rode it out" : "EXITED (status \(node.process?.exitStatus ?? -1))"
            if !node.isRunning {
                failures.append("\(label) exited after a \(String(format: "%.2f", fault.duration)) s partition, under its lease")
                try cluster.start(node)
            }
            node.wanted = true
            note(.partition, target: label, start: start, end: restored,
                 String(format: "%@ cut off for %.2f s (%@, under the lease): %@", label, fault.duration, fault.side.rawValue, outcome))
        }
    }
}

extension Array {
    subscript(safe index: Int) -> Element? { indices.contains(index) ? self[index] : nil }
}
