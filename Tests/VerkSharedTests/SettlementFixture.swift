import VerkShared
@testable import VerkSupervisor

/// The settlement batch tests' queue `q` on node `n` in namespace `ns`, and a job to fail.
enum SettlementFixture {
    static let keys = KeySpace(namespace: "ns")
    static var target: SettlementBatch.Target {
        let inProgress = keys.inProgress(queue: "q", node: "n")
        return .init(keys: keys, queue: "q", source: keys.queue("q"), inProgress: inProgress, quarantine: keys.quarantine(queue: "q", node: "n"),
                     recorder: FailureRecorder(keys: keys, policy: RetryPolicy(), retrySchedules: RetrySchedules(), queue: "q", inProgress: inProgress))
    }
    static let job = Array(#"{"class":"A","args":[],"jid":"j1","queue":"q","retry":true}"#.utf8)
}
