import Testing
import VerkShared

/// The adaptive prefetch: large for short jobs while there is a backlog, small for long ones, fixed when
/// configured.
@Suite struct PrefetchWindowTests {
    @Test func startsAtTheConcurrencyAndGrowsByDoublingOnlyWhileThereIsABacklog() {
        var window = PrefetchWindow(concurrency: 25, configured: nil)
        #expect(window.prefetch == 25 && window.size == 50)
        for _ in 0..<100 { window.finished(seconds: 0.000_005) }  // no-op jobs: 5 µs
        #expect(window.target == PrefetchWindow.maximum)
        window.fetched(backlog: false)
        #expect(window.prefetch == 25, "an empty queue gives no reason to hold more")
        var sizes: [Int] = []
        for _ in 0..<8 { window.fetched(backlog: true); sizes.append(window.prefetch) }
        #expect(sizes == [50, 100, 200, 400, 800, 1000, 1000, 1000])
    }

    @Test func followsTheJobsDurationAndShrinksAtOnceForLongJobs() {
        var window = PrefetchWindow(concurrency: 10, configured: nil)
        for _ in 0..<200 { window.finished(seconds: 0.001) }  // 1 ms jobs: 10 threads do 50 in 5 ms
        #expect(window.target == 50)
        for _ in 0..<10 { window.fetched(backlog: true) }
        #expect(window.prefetch == 50)
        for _ in 0..<200 { window.finished(seconds: 2) }  // now 2 s jobs: one waiting is plenty
        #expect(window.target == PrefetchWindow.minimum && window.prefetch == PrefetchWindow.minimum)
        #expect(window.size == 11)
    }

    @Test func aConfiguredPrefetchNeverMoves() {
        var window = PrefetchWindow(concurrency: 5, configured: 200)
        for _ in 0..<100 { window.finished(seconds: 10) }
        window.fetched(backlog: true)
        #expect(window.prefetch == 200 && window.size == 205 && window.averageDuration == nil)
        var none = PrefetchWindow(concurrency: 1, configured: 0)
        none.fetched(backlog: true)
        #expect(none.size == 1)
    }
}
