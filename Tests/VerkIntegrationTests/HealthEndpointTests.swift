import Foundation
import Testing
import VerkShared

/// `/healthz`, `/readyz` and `/metrics` of a real node (`VERK_HTTP_PORT`), read over loopback as Kubernetes'
/// probes and Prometheus read them.
@Suite(.serialized) struct HealthEndpointTests {
    func node(_ ns: String, queues: [String] = ["default:2"], redisURL: String = TestRedis.url,
              env: [String: String] = [:]) throws -> (DemoNode, HTTPGet) {
        let port = try PrivateRedis.freePort()
        let node = try DemoNode(namespace: ns, queues: queues, redisURL: redisURL, extraEnv: ["VERK_HTTP_PORT": "\(port)"].merging(env) { $1 })
        return (node, HTTPGet(port: port))
    }

    func waitFor(_ get: HTTPGet, _ path: String, status: Int, containing text: String = "", timeout: Double = 20) throws {
        var last = "no answer"
        do {
            try eventually(timeout: timeout, "\(path) to answer \(status)\(text.isEmpty ? "" : " with '\(text)'")") {
                guard let response = get(path) else { return false }
                last = "\(response.status) \(response.body)"
                return response.status == status && (text.isEmpty || response.body.contains(text))
            }
        } catch {
            Issue.record("\(path) last answered: \(last)")
            throw error
        }
    }

    @Test func aRunningNodeIsAliveAndReadyAndAQuietOneIsNotReady() throws {
        let (node, get) = try node(TestRedis.freshNamespace(), queues: ["default:2", "mail:1"])
        try waitFor(get, "/healthz", status: 200, containing: "ok")
        try waitFor(get, "/readyz", status: 200, containing: "ok")
        node.process.signal(SIGTSTP)
        try waitFor(get, "/readyz", status: 503, containing: "node: quiet")
        #expect(get("/healthz")?.status == 200, "quiet is not stuck")
        #expect(get("/nowhere")?.status == 404)
        #expect(get("/readyz", method: "POST")?.status == 405)
        #expect(node.stop() == 0)
    }

    @Test func aPausedQueueHasNoWorkerProcessAndStillCountsAsReady() throws {
        let ns = TestRedis.freshNamespace()
        #expect(try Binaries.verk(["queue", "pause", "mail", "--namespace", ns]).status == 0)
        let port = try PrivateRedis.freePort()
        let node = try DemoNode(namespace: ns, queues: ["default:1", "mail:1"], extraEnv: ["VERK_HTTP_PORT": "\(port)"], waitFor: ["default"])
        try waitFor(HTTPGet(port: port), "/readyz", status: 200, containing: "ok")
        #expect(node.stop() == 0)
    }

    /// Redis down: not ready, naming Redis, but alive (a liveness failure would restart every node in an
    /// outage); ready again once it is back. The node's Redis keeps its data across the restart (AOF), and
    /// beats every 3 s, so its lease (3 beats) outlives the outage.
    @Test func readinessFollowsRedisDownAndBackWhileLivenessHolds() throws {
        let redis = try PrivateRedis(extraArgs: ["--appendonly", "yes"])
        let (node, get) = try node(TestRedis.freshNamespace(), redisURL: redis.url,
                                   env: ["VERK_HEARTBEAT_INTERVAL": "3", "VERK_NODE_EXPIRY": "9"])
        try waitFor(get, "/readyz", status: 200)
        redis.stop()
        try waitFor(get, "/readyz", status: 503, containing: "redis: ")
        #expect(get("/healthz")?.status == 200)
        try redis.start()
        try waitFor(get, "/readyz", status: 200, containing: "ok")
        #expect(node.isAlive)
        #expect(node.stop() == 0)
    }

    /// The scrape agrees with Sidekiq's stats (`verk stats`), per class too, and has the duration histogram.
    @Test func metricsCountWhatStatsCountWithDurationsAndQueueGauges() throws {
        let ns = TestRedis.freshNamespace()
        let (node, get) = try node(ns, queues: ["default:4"])
        let client = try VerkClient(url: TestRedis.url, namespace: ns)
        try client.enqueue(many: (0..<30).map { i in Job(className: "NoopWorker", args: [.int(i)]) })
        try client.enqueue(many: (0..<7).map { _ in Job(className: "FailWorker", args: ["on purpose"], retry: .limit(0)) })
        var metrics = PrometheusText("")
        try eventually("the scrape and `verk stats` to agree on 37 processed and 7 failed") {
            let stats = try JSONParser.parse(try Binaries.verk(["stats", "--json", "--namespace", ns]).stdout)
            guard let scrape = get("/metrics"), scrape.status == 200 else { return false }
            metrics = PrometheusText(scrape.body)
            return stats["processed"]?.intValue == 37 && stats["failed"]?.intValue == 7
                && metrics.sum("verk_jobs_processed_total") == 37 && metrics.sum("verk_jobs_failed_total") == 7
        }
        #expect(metrics.sum("verk_jobs_processed_total", ["queue": "default", "class": "NoopWorker"]) == 30)
        #expect(metrics.sum("verk_jobs_failed_total", ["queue": "default", "class": "NoopWorker"]) == 0)
        #expect(metrics.sum("verk_jobs_failed_total", ["queue": "default", "class": "FailWorker"]) == 7)
        #expect(metrics.types["verk_job_duration_seconds"] == "histogram")
        let buckets = metrics.samples.filter { $0.name == "verk_job_duration_seconds_bucket" && $0.labels["class"] == "NoopWorker" }
        #expect(buckets.count > 5 && buckets.contains { $0.labels["le"] == "+Inf" && $0.value == 30 })
        #expect(metrics.sum("verk_job_duration_seconds_count", ["class": "FailWorker"]) == 7)
        #expect(metrics.has("verk_worker_restarts_total", ["queue": "default"]))
        #expect(metrics.has("verk_jobs_in_flight", ["queue": "default"]))
        #expect(metrics.types["verk_redis_errors_total"] == "counter" && metrics.types["verk_node_takeovers_total"] == "counter")
        try eventually("a heartbeat to sample the queue's size and its worker process's memory") {
            let m = PrometheusText(get("/metrics")?.body ?? "")
            return m.has("verk_queue_size", ["queue": "default"]) && m.has("verk_queue_latency_seconds", ["queue": "default"])
                && m.sum("verk_worker_rss_bytes", ["queue": "default"]) > 1_000_000
        }
        #expect(node.stop() == 0)
    }

    @Test func aPortInUseStopsTheNodeSayingWhichAndWhatToDo() throws {
        let port = try PrivateRedis.freePort()
        let holder = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(holder) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        addr.sin_addr.s_addr = INADDR_ANY
        let bound = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(holder, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
        try #require(bound && listen(holder, 1) == 0, "the test holds port \(port)")
        let result = try runProcess(Binaries.demo, ["--node-id", "http-busy-\(JobID.generate().prefix(6))", "--queue", "default:1"], env: [
            "VERK_REDIS_URL": TestRedis.url, "VERK_NAMESPACE": TestRedis.freshNamespace(), "VERK_HTTP_PORT": "\(port)",
        ])
        #expect(result.status == 1)
        #expect(result.stderr.contains("cannot serve health and metrics on 0.0.0.0:\(port)"), "\(result.stderr)")
        #expect(result.stderr.contains("set another http_port (VERK_HTTP_PORT)"))
    }
}
