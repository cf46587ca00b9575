import Testing
@testable import VerkSupervisor

@Suite struct InFlightJobsTests {
    @Test func aDeadChildSplitsIntoStartedAndNeverStartedJobs() {
        var table = InFlightJobs()
        let a = table.add([1]), b = table.add([2]), _ = table.add([3])
        table.markStarted(a, at: 10, timeout: 0)
        table.markStarted(b, at: 11, timeout: 0)
        _ = table.remove(a)
        let taken = table.takeAll()
        #expect(taken.running.map(\.entry.payload) == [[2]])
        #expect(taken.notStarted == [[3]])
        #expect(table.isEmpty)
    }

    @Test func deadlinesAreTrackedOnlyForJobsWithATimeout() {
        var table = InFlightJobs()
        let plain = table.add([1]), slow = table.add([2]), slower = table.add([3])
        table.markStarted(plain, at: 100, timeout: 0)
        #expect(table.nextDeadline == nil)
        table.markStarted(slow, at: 100, timeout: 5)
        table.markStarted(slower, at: 100, timeout: 9)
        #expect(table.nextDeadline == 105)
        #expect(table.overdue(at: 106) == [slow])
        _ = table.remove(slow)
        #expect(table.nextDeadline == 109)
        _ = table.remove(slower)
        #expect(table.nextDeadline == nil)
        _ = table.remove(plain)
        table.markStarted(42, at: 1, timeout: 3)  // an unknown seq (already settled) adds nothing
        #expect(table.nextDeadline == nil)
    }
}
