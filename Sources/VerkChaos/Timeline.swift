import Foundation

/// What the driver saw while the run went on, sampled every 50 ms on a thread of its own: the size of
/// every incarnation's record file (so each recorded run of a job can be placed between two samples in
/// time), and the crashes of worker processes its log reports (the poison jobs' SIGSEGVs are not the
/// driver's doing, so only the log says when they happened).
///
/// `@unchecked Sendable`: everything mutable is under `lock`.
final class Timeline: @unchecked Sendable {
    struct Crash {
        let time: Double
        let incarnation: String
        let signal: String
    }

    private struct Watched {
        let incarnation: String
        let records: String
        let log: String
        /// Each size the file had: first and last seen.
        var sizes: [(first: Double, last: Double, size: Int)] = []
        var logOffset = 0
        var partialLine = ""
    }

    private let lock = NSLock()
    private var watched: [String: Watched] = [:]
    private var crashLines: [Crash] = []

    func watch(incarnation: String, records: String, log: String) {
        lock.lock()
        defer { lock.unlock() }
        let now = Clock.now()
        watched[incarnation] = Watched(incarnation: incarnation, records: records, log: log, sizes: [(now, now, 0)])
    }

    var crashes: [Crash] {
        lock.lock()
        defer { lock.unlock() }
        return crashLines
    }

    /// Samples every watched file now (also called at each fault's start and end).
    func sample() {
        lock.lock()
        defer { lock.unlock() }
        let now = Clock.now()
        for key in watched.keys {
            guard var w = watched[key] else { continue }
            let size = RecordFiles.size(w.records)
            if size != w.sizes.last?.size { w.sizes.append((now, now, size)) } else { w.sizes[w.sizes.count - 1].last = now }
            readLog(&w, now: now)
            watched[key] = w
        }
    }

    /// When the line at `offset` of an incarnation's record file was written: after `after`, before `before`.
    func when(offset: Int, incarnation: String) -> (after: Double, before: Double) {
        lock.lock()
        defer { lock.unlock() }
        guard let sizes = watched[incarnation]?.sizes, !sizes.isEmpty else { return (0, .infinity) }
        // The first sample that already holds the line; the sample before it did not.
        var low = 0, high = sizes.count
        while low < high {
            let mid = (low + high) / 2
            if sizes[mid].size > offset { high = mid } else { low = mid + 1 }
        }
        if low == sizes.count { return (sizes[sizes.count - 1].last, .infinity) }
        return (low > 0 ? sizes[low - 1].last : 0, sizes[low].first)
    }

    private func readLog(_ w: inout Watched, now: Double) {
        guard let handle = FileHandle(forReadingAtPath: w.log) else { return }
        defer { try? handle.close() }
        guard (try? handle.seek(toOffset: UInt64(w.logOffset))) != nil, let data = try? handle.readToEnd(), !data.isEmpty else { return }
        w.logOffset += data.count
        let text = w.partialLine + String(decoding: data, as: UTF8.self)
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        w.partialLine = String(lines.removeLast())
        for line in lines where line.contains("worker process died") {
            let signal = line.firstMatch(of: /\((SIG[A-Z]+)\)/).map { String($0.1) } ?? "exit"
            crashLines.append(Crash(time: now, incarnation: w.incarnation, signal: signal))
        }
    }
}
