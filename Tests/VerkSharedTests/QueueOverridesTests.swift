import Testing
@testable import VerkShared

@Suite struct QueueOverridesTests {
    let configured = [QueueConfiguration("default", concurrency: 10, memoryLimitMB: 256), QueueConfiguration("mail", concurrency: 5),
                      QueueConfiguration("reports", concurrency: 2)]

    func names(_ queues: [QueueConfiguration]) -> [String] { queues.map(\.name) }

    @Test func noOverridesLeaveTheConfigurationAsItIs() {
        #expect(QueueOverrides().apply(to: configured) == configured)
        #expect(QueueOverrides().apply(to: []) == [])
    }

    @Test func removedQueuesAreDroppedAndTheRestKeepTheirOrder() {
        let out = QueueOverrides(removed: ["mail", "never-configured"]).apply(to: configured)
        #expect(out == [configured[0], configured[2]])
    }

    @Test func addedQueuesComeAfterTheConfiguredOnesSortedByName() {
        let out = QueueOverrides(added: ["zeta": 1, "alpha": 3, "mid": 2]).apply(to: configured)
        #expect(names(out) == ["default", "mail", "reports", "alpha", "mid", "zeta"])
        #expect(out.suffix(3).map(\.concurrency) == [3, 2, 1])
    }

    @Test func anAddedQueueThatIsConfiguredTakesTheAddedConcurrencyInItsPlace() {
        let out = QueueOverrides(added: ["default": 40]).apply(to: configured)
        #expect(names(out) == ["default", "mail", "reports"])
        #expect(out[0].concurrency == 40)
        #expect(out[0].memoryLimitMB == 256, "other configured settings are kept")
    }

    @Test func aQueueBothAddedAndRemovedIsRunWithTheAddedConcurrency() {
        // Only a hand-built value can hold both; the overlay never produces it. "Minus removed, plus added".
        let out = QueueOverrides(added: ["mail": 7, "new": 1], removed: ["mail", "new"]).apply(to: configured)
        #expect(names(out) == ["default", "mail", "reports", "new"])
        #expect(out[1].concurrency == 7)
    }

    @Test func removingEveryQueueLeavesNone() {
        #expect(QueueOverrides(removed: ["default", "mail", "reports"]).apply(to: configured).isEmpty)
    }

    @Test func theNodesOwnEntryWinsOverTheFleetWideOneBothWays() {
        let out = QueueOverrides.overlay([
            ("fleet", [("mail", "5"), ("reports", "removed"), ("extra", "3")]),
            ("node", [("mail", "removed"), ("reports", "4")]),
        ])
        #expect(out == QueueOverrides(added: ["reports": 4, "extra": 3], removed: ["mail"]))
        #expect(out.problems.isEmpty)
    }

    @Test func malformedEntriesAreSkippedAndNamedAndTheFleetEntryThenApplies() {
        let out = QueueOverrides.overlay([
            ("ns:verk:queue-overrides", [("mail", "5"), ("bad name", "3"), ("zero", "0")]),
            ("ns:verk:node:n1:queue-overrides", [("mail", "lots"), ("ok", "2")]),
        ])
        #expect(out == QueueOverrides(added: ["mail": 5, "ok": 2]))
        #expect(out.problems.count == 3)
        let mail = out.problems.first { $0.contains("'mail'") } ?? ""
        #expect(mail.hasPrefix("ns:verk:node:n1:queue-overrides: skipped field 'mail' = 'lots'"), "\(mail)")
        #expect(mail.contains("expected a concurrency (a whole number) or 'removed'"))
        #expect(out.problems.contains { $0.contains("'zero'") && $0.contains("concurrency must be between 1 and 1000") })
        #expect(out.problems.contains { $0.contains("'bad name'") && $0.contains("may only hold letters") })
    }

    @Test func equalityIgnoresProblems() {
        #expect(QueueOverrides(added: ["a": 1], problems: ["x"]) == QueueOverrides(added: ["a": 1]))
        #expect(QueueOverrides(added: ["a": 1]) != QueueOverrides(added: ["a": 2]))
        #expect(QueueOverrides(removed: ["a"]) != QueueOverrides(added: ["a": 1]))
    }

    @Test(arguments: [
        ("5", QueueOverride.add(concurrency: 5)), ("1000", .add(concurrency: 1000)), ("removed", .removed),
    ])
    func validEntriesParse(_ value: String, _ expected: QueueOverride) throws {
        #expect(try QueueOverride.parse(queue: "mail", value: value) == expected)
        #expect(expected.redisValue == value, "written as it is read")
    }

    @Test(arguments: ["0", "1001", "-3", "", " 5", "5.0", "Removed", "abc"])
    func invalidEntriesAreRefused(_ value: String) {
        #expect(throws: ConfigurationError.self) { try QueueOverride.parse(queue: "mail", value: value) }
    }
}
