import Foundation
import Testing
import VerkShared

/// The Redis password never shows in the process list, and worker processes never get it.
@Suite struct SecretsTests {
    static let password = "Pa55-" + JobID.generate().prefix(12)

    func procFile(_ pid: Int32, _ name: String) -> String {
        let data = FileManager.default.contents(atPath: "/proc/\(pid)/\(name)") ?? Data()
        return String(decoding: data.map { $0 == 0 ? 0x20 : $0 }, as: UTF8.self)
    }

    @Test(arguments: [true, false])
    func noPasswordInAnyCmdlineNorInTheWorkerProcessesEnvironment(onTheCommandLine: Bool) throws {
        let redis = try PrivateRedis(extraArgs: ["--requirepass", Self.password])
        let url = "redis://:\(Self.password)@127.0.0.1:\(redis.port)/0"
        let ns = TestRedis.freshNamespace()
        // DemoNode passes the URL in VERK_REDIS_URL; on the command line it is the demo's --redis-url flag.
        let node = try DemoNode(namespace: ns, queues: ["default:1", "mail:1"], redisURL: onTheCommandLine ? "redis://127.0.0.1:1/0" : url,
                                extraArgs: onTheCommandLine ? ["--redis-url", url] : [])
        let children = ["default", "mail"].compactMap(node.latestPID)
        #expect(children.count == 2)
        #expect(!procFile(node.process.pid, "cmdline").contains(Self.password), "supervisor: \(procFile(node.process.pid, "cmdline"))")
        for pid in children {
            #expect(!procFile(pid, "cmdline").contains(Self.password), "worker process cmdline")
            #expect(!procFile(pid, "environ").contains(Self.password), "worker process environment")
            #expect(!procFile(pid, "environ").contains("VERK_REDIS_URL="))
        }
        // And the node works with that password.
        let client = try VerkClient(url: url, namespace: ns)
        let jid = try client.enqueue(Job(className: "NoopWorker", args: []))
        try eventually("the job to run") { try client.withConnection { try $0.command("GET", KeySpace(namespace: ns).processed).int } == 1 }
        #expect(!jid.isEmpty)
        #expect(node.stop() == 0)
        #expect(!node.process.stderr.contains(Self.password) && !node.process.stdout.contains(Self.password), "nor in the logs")
    }
}
