/// How many jobs a queue keeps in its worker process beyond its running ones (the prefetch), when the
/// configuration does not fix it. Prefetched jobs save a Redis round trip before each job, which is most
/// of the cost of short jobs; but each waits in the process for a thread, and on a busy node a long job's
/// wait is another node's lost chance to run it. So the window follows the jobs: the prefetch is what
/// the threads get through in `waitBudget` at the jobs' recent average duration — a few hundred for
/// jobs of microseconds, a few for jobs of milliseconds, one for jobs of seconds — between `minimum` and
/// `maximum`. It grows (doubling per round trip) only while the queue has a backlog, and shrinks at once.
/// Pure: the queue manager feeds it durations and fetch results.
package struct PrefetchWindow: Sendable, Equatable {
    package let concurrency: Int
    /// A configured prefetch: the window never moves.
    package let fixed: Int?
    package static let minimum = 1
    package static let maximum = 1000
    /// How long a prefetched job may expect to wait for a thread.
    package static let waitBudget = 0.005
    /// Weight of each new duration in the running average.
    static let smoothing = 0.05

    /// Seconds, the running average of finished jobs' durations (nil until the first).
    package private(set) var averageDuration: Double?
    package private(set) var prefetch: Int

    package init(concurrency: Int, configured: Int?) {
        self.concurrency = max(1, concurrency)
        fixed = configured
        prefetch = configured ?? self.concurrency
    }

    /// Jobs the worker process may hold: running plus prefetched.
    package var size: Int { concurrency + prefetch }

    /// Where the prefetch is heading at the current average duration.
    package var target: Int {
        if let fixed { return fixed }
        guard let average = averageDuration else { return concurrency }
        let ideal = Double(concurrency) * Self.waitBudget / max(average, 1e-7)
        return Int(min(Double(Self.maximum), max(Double(Self.minimum), ideal.rounded())))
    }

    /// A job finished after `seconds`.
    package mutating func finished(seconds: Double) {
        guard fixed == nil else { return }
        averageDuration = averageDuration.map { $0 + Self.smoothing * (seconds - $0) } ?? seconds
        // Long jobs: fewer wait from now on (what is already prefetched runs as it is).
        if target < prefetch { prefetch = target }
    }

    /// A round trip fetched: `backlog` when it filled every free slot (the queue has more).
    package mutating func fetched(backlog: Bool) {
        guard fixed == nil, backlog, prefetch < target else { return }
        prefetch = min(target, max(prefetch * 2, prefetch + 1))
    }
}
