import Foundation
import Testing
import VerkShared

/// `verk queue add|remove|reset|pause|resume`, end to end through the built binary.
@Suite(.serialized) struct QueueCommandTests {
    @Test func addRemovePauseResumeAndResetChangeWhatNodesRead() throws {
        let ns = TestRedis.freshNamespace()
        let control = QueueControl(redis: try TestRedis.connection(), keys: KeySpace(namespace: ns))
        func verk(_ args: [String]) throws -> String {
            let result = try Binaries.verk(args + ["--namespace", ns])
            #expect(result.status == 0, "\(args): \(result.stderr)")
            #expect(result.stderr.isEmpty)
            let lines = result.stdout.split(separator: "\n")
            #expect(lines.count == 1, "one confirmation line for \(args): \(result.stdout)")
            return lines.first.map(String.init) ?? ""
        }

        #expect(try verk(["queue", "add", "mail", "5"]) == "added queue mail with concurrency 5 on every node")
        #expect(try verk(["queue", "add", "mail", "8", "--node", "web-1"]) == "added queue mail with concurrency 8 on node web-1")
        #expect(try verk(["queue", "remove", "default", "--node", "web-1"]) == "removed queue default on node web-1")
        #expect(try control.overrides(node: "web-1") == QueueOverrides(added: ["mail": 8], removed: ["default"]))
        #expect(try control.overrides(node: "web-2") == QueueOverrides(added: ["mail": 5]))

        #expect(try verk(["queue", "remove", "mail"]) == "removed queue mail on every node")
        #expect(try control.overrides(node: "web-1") == QueueOverrides(removed: ["default", "mail"]), "the fleet-wide command cleared web-1's entry")
        #expect(try verk(["queue", "reset", "default", "--node", "web-1"]) == "reset queue default to its configuration on node web-1")
        #expect(try control.overrides(node: "web-1") == QueueOverrides(removed: ["mail"]))

        #expect(try verk(["queue", "pause", "mail"]) == "paused queue mail on every node")
        #expect(try control.pausedQueues() == ["mail"])
        #expect(try verk(["queue", "resume", "mail"]) == "resumed queue mail on every node")
        #expect(try control.pausedQueues().isEmpty)
    }

    /// A bad name or concurrency exits non-zero with the validation message as one line, and writes nothing.
    @Test(arguments: [
        (["queue", "add", "bad/name", "3"], "a queue name may only hold letters, digits and _ : . -"),
        (["queue", "add", "mail", "0"], "invalid configuration queues = 'mail:0': concurrency must be between 1 and 1000"),
        (["queue", "add", "mail", "1001", "--node", "web-1"], "concurrency must be between 1 and 1000"),
        (["queue", "add", "mail", "many"], "The value 'many' is invalid for '<concurrency>'"),
        (["queue", "remove", "bad name"], "a queue name may only hold"),
        (["queue", "pause", "bad*name"], "a queue name may only hold"),
        (["queue", "add", "mail", "3", "--node", "two words"], "node_id = 'two words': must be non-empty with no spaces"),
        (["queue", "add", "mail"], "Missing expected argument '<concurrency>'"),
    ])
    func badInputExitsNonZeroWithTheValidationMessage(_ args: [String], _ expected: String) throws {
        let ns = TestRedis.freshNamespace()
        let result = try Binaries.verk(args + ["--namespace", ns])
        #expect(result.status != 0)
        #expect(result.stderr.split(separator: "\n").count == 1, "stderr: \(result.stderr)")
        #expect(result.stderr.contains(expected), "stderr: \(result.stderr)")
        #expect(result.stdout.isEmpty)
        #expect(try TestRedis.connection().command("KEYS", ns + ":*").array?.isEmpty == true)
    }
}
