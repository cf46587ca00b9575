import Foundation
import Testing
import VerkShared

@Suite struct OOMPreferenceTests {
    func score(_ pid: Int32) -> Int? {
        FileManager.default.contents(atPath: "/proc/\(pid)/oom_score_adj")
            .flatMap { Int(String(decoding: $0, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)) }
    }

    @Test func theOOMKillerPrefersWorkerProcessesToTheSupervisor() throws {
        let node = try DemoNode(namespace: TestRedis.freshNamespace(), queues: ["default:1", "mail:1"])
        let supervisor = try #require(score(node.process.pid))
        for queue in ["default", "mail"] {
            let pid = try #require(node.latestPID(queue))
            // Logged at spawn: the child sets its score as it starts.
            try eventually("the worker process of \(queue) to prefer itself") { score(pid) == 1000 }
        }
        #expect(supervisor < 1000)
        #expect(node.stop() == 0)
    }
}
