import Foundation
import Testing
import VerkShared

/// A StatefulSet's life on one machine: pods verk-0…2 as real supervisors on one Redis, RecordWorker jobs
/// pushed by Ruby Sidekiq and by our client, then a rolling update, a scale-down to one pod, a scale-up,
/// and an eviction. Every jid must be recorded; duplicates are counted (only a kill -9 may cause them: the
/// jobs the killed pod was running run again). `VERK_SIM_JOBS` sizes it (`scripts/simulate-statefulset`).
@Suite(.serialized) struct StatefulSetSimulationTests {
    static let jobsPerBatch = max(100, (Int(ProcessInfo.processInfo.environment["VERK_SIM_JOBS"] ?? "") ?? 1500) / 5)
    static let jobMillis = 20
    static let shutdownTimeout = 2.0
    /// terminationGracePeriodSeconds: above the shutdown timeout, as the manifests have it.
    static let grace = 5.0

    final class Cluster {
        let ns = TestRedis.freshNamespace("sts")
        let file = RecordFile()
        var pods: [Int: DemoNode] = [:]
        var pushed: [String] = []
        let client: VerkClient
        var log: [String] = []

        init() throws { client = try VerkClient(url: TestRedis.url, namespace: ns) }

        func start(_ ordinal: Int) throws {
            pods[ordinal] = try DemoNode(namespace: ns, queues: ["default:4"], nodeID: "verk-\(ordinal)",
                                         shutdownTimeout: StatefulSetSimulationTests.shutdownTimeout)
        }

        /// Kubernetes' termination: SIGTERM, SIGKILL after the grace period. True when it exited by itself.
        @discardableResult
        func terminate(_ ordinal: Int) -> Bool {
            guard let pod = pods.removeValue(forKey: ordinal) else { return true }
            pod.process.signal(SIGTERM)
            let deadline = Date().addingTimeInterval(StatefulSetSimulationTests.grace)
            while !pod.process.hasExited && Date() < deadline { usleep(10_000) }  // the grace period itself
            if pod.process.hasExited { return pod.process.wait() == 0 }
            pod.process.signal(SIGKILL)
            pod.process.wait()
            return false
        }

        func evict(_ ordinal: Int) throws {
            guard let pod = pods.removeValue(forKey: ordinal) else { return }
            pod.process.signal(SIGKILL)
            pod.process.wait()
            try start(ordinal)
        }

        /// Half through Ruby's Sidekiq::Client.push_bulk, half through VerkClient.
        func push(_ count: Int) throws {
            let half = count / 2
            let ruby = try Sidekiq.json("""
                jids = Sidekiq::Client.push_bulk('class' => 'RecordWorker', 'queue' => 'default',
                  'args' => Array.new(\(half)) { |i| ['\(file.path)', i, \(StatefulSetSimulationTests.jobMillis)] })
                puts JSON.generate(jids)
                """, namespace: ns).arrayValue?.compactMap(\.stringValue) ?? []
            let ours = try client.enqueue(many: (0..<(count - half)).map { i in
                Job(className: "RecordWorker", args: [.string(file.path), .int(i), .int(StatefulSetSimulationTests.jobMillis)])
            })
            #expect(ruby.count == half && ours.count == count - half)
            pushed += ruby + ours
        }

        func phase(_ name: String, _ body: () throws -> Void) throws {
            let start = Date()
            let before = file.counts().count
            try push(StatefulSetSimulationTests.jobsPerBatch)
            try body()
            log.append("\(name): \(String(format: "%.1f", Date().timeIntervalSince(start))) s, \(file.counts().count - before) jobs recorded")
        }
    }

    @Test func rollingUpdateScaleDownScaleUpAndEvictionLoseNoJob() throws {
        let c = try Cluster()
        defer { c.file.remove() }
        let started = Date()
        for i in 0..<3 { try c.start(i) }
        var forced = 0
        try c.phase("rolling update (2, 1, 0)") {
            for i in [2, 1, 0] {
                if !c.terminate(i) { forced += 1 }
                try c.start(i)
            }
        }
        try c.phase("scale down 3 → 1") {
            for i in [2, 1] where !c.terminate(i) { forced += 1 }
        }
        try c.phase("scale up 1 → 3") {
            for i in [1, 2] { try c.start(i) }
        }
        try c.phase("eviction of verk-1 (kill -9, same name)") { try c.evict(1) }
        try c.phase("steady") {}
        try eventually(timeout: 120, "every pushed jid to be recorded") { Set(c.pushed).isSubset(of: Set(c.file.counts().keys)) }
        let counts = c.file.counts()
        let lost = Set(c.pushed).subtracting(counts.keys)
        let duplicated = counts.values.filter { $0 > 1 }.count
        let conn = try TestRedis.connection()
        let keys = KeySpace(namespace: c.ns)
        for i in 0..<3 { #expect(try conn.command("LLEN", keys.inProgress(queue: "default", node: "verk-\(i)")).int ?? 0 == 0 || c.pods[i] != nil) }
        print("statefulset simulation: jobs \(c.pushed.count), lost \(lost.count), duplicated \(duplicated), forced kills after grace \(forced), "
              + "seconds \(String(format: "%.1f", Date().timeIntervalSince(started)))")
        for line in c.log { print("  \(line)") }
        #expect(lost.isEmpty, "lost: \(lost.prefix(5))")
        // A duplicate needs a pod killed while running a job: only the eviction (and a forced kill) does that,
        // and at most the jobs it was running (4 threads) run twice.
        #expect(duplicated <= 4 * (1 + forced), "duplicates beyond the jobs a kill -9 interrupted: \(duplicated)")
        for (_, pod) in c.pods { #expect(pod.stop() == 0) }
    }
}
