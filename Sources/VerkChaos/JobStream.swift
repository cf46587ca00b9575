import Foundation
import VerkShared

/// The jobs of the run, pushed at an even pace over the push window on a thread of their own: in every
/// batch half by Ruby's `Sidekiq::Client.push_bulk`, half by our `VerkClient.enqueue(many:)`, as
/// RecordWorker jobs `[records.jsonl, i, ms]` (ms seeded, 1–30), with the poison CrashWorker jobs mixed in
/// at seeded places, alternately by either client.
///
/// Pushes stop while Redis is being restarted or stopped (`hold()`): a push that fails leaves it unknown
/// whether it landed, and the question here is what Verk loses, not what a client does with an
/// ambiguous error. A push that fails anyway is counted, and its jids (ours are chosen before the push)
/// count as pushed only if they are recorded.
///
/// `@unchecked Sendable`: everything mutable is under `lock` (the condition's).
final class JobStream: @unchecked Sendable {
    struct Pushed {
        var record: [String] = []
        var rubyRecord = 0
        var poison: [String] = []
        var uncertain: [String] = []
        var failedBatches: [String] = []
    }

    private let total: Int
    private let poisonAt: Set<Int>
    private let millis: [Int]
    private let duration: Double
    private let batchInterval = 0.05
    private let ruby: RubyPusher
    private let redisURL: String
    private var client: VerkClient
    private let condition = NSCondition()
    private var held = false
    private var pushing = false
    private var next = 0
    private var pushed = Pushed()
    private var finished = false

    init(total: Int, poison: Int, duration: Double, ruby: RubyPusher, redisURL: String, random: inout SeededRandom) throws {
        self.total = total
        self.duration = duration
        self.ruby = ruby
        self.redisURL = redisURL
        client = try VerkClient(url: redisURL)
        millis = (0..<total).map { _ in Int.random(in: 1...30, using: &random) }
        var places = Set<Int>()
        while places.count < min(poison, total) { places.insert(Int.random(in: 0..<total, using: &random)) }
        poisonAt = places
    }

    var snapshot: Pushed {
        condition.lock()
        defer { condition.unlock() }
        return pushed
    }

    var isFinished: Bool {
        condition.lock()
        defer { condition.unlock() }
        return finished
    }

    /// Pushes until every job is pushed; `stop` ends it early (an interrupted run), and so does running
    /// ten minutes past its window (held all that time: the run has failed anyway).
    func run(stop: @escaping () -> Bool) {
        let start = Clock.now()
        let batches = max(1, Int(duration / batchInterval))
        let perBatch = max(1, (total + batches - 1) / batches)
        let giveUpAt = start + duration + 600
        while !stop() && Clock.now() < giveUpAt {
            condition.lock()
            while held && !stop() { _ = condition.wait(until: Date().addingTimeInterval(0.1)) }
            let from = next
            guard from < total else {
                finished = true
                condition.unlock()
                return
            }
            // Behind schedule after a hold: catch up in bigger batches, at most ten at a time.
            let due = min(total, Int((Clock.now() - start) / batchInterval + 1) * perBatch)
            let to = min(total, max(from + 1, min(due, from + 10 * perBatch)))
            if due <= from {
                condition.unlock()
                usleep(UInt32(batchInterval * 1e6 / 4))
                continue
            }
            pushing = true
            next = to
            condition.unlock()
            pushBatch(from..<to)
            condition.lock()
            pushing = false
            condition.broadcast()
            condition.unlock()
        }
    }

    /// No push from now until `release()`; returns once a push under way has finished.
    func hold() {
        condition.lock()
        held = true
        let deadline = Date().addingTimeInterval(60)
        while pushing && Date() < deadline { _ = condition.wait(until: deadline) }
        condition.unlock()
    }

    /// After Redis came back: both clients reach it again (fresh connections), then pushing resumes.
    func release() throws {
        defer {
            condition.lock()
            held = false
            condition.broadcast()
            condition.unlock()
        }
        try ruby.ping()
        let fresh = try VerkClient(url: redisURL)
        condition.lock()
        client = fresh
        condition.unlock()
    }

    private func pushBatch(_ range: Range<Int>) {
        var rubyArgs: [[JSONValue]] = [], ours: [Job] = []
        var rubyPoison = 0, ourPoison: [Job] = []
        for i in range {
            let args: [JSONValue] = [.string(RecordFiles.name), .int(i), .int(millis[i])]
            if i % 2 == 0 { rubyArgs.append(args) } else {
                var job = Job(className: "RecordWorker", args: args)
                job.jid = JobID.generate()
                ours.append(job)
            }
            if poisonAt.contains(i) {
                if i % 2 == 0 { rubyPoison += 1 } else {
                    var job = Job(className: "CrashWorker", args: [])
                    job.jid = JobID.generate()
                    ourPoison.append(job)
                }
            }
        }
        condition.lock()
        let client = self.client
        condition.unlock()
        var result = Pushed()
        do {
            result.record += try ruby.push(className: "RecordWorker", args: rubyArgs)
            result.rubyRecord += rubyArgs.count
        } catch {
            result.failedBatches.append("Ruby, \(rubyArgs.count) jobs: \(error)")
        }
        if rubyPoison > 0 {
            do { result.poison += try ruby.push(className: "CrashWorker", args: Array(repeating: [], count: rubyPoison)) } catch {
                result.failedBatches.append("Ruby, \(rubyPoison) poison jobs: \(error)")
            }
        }
        let all = ours + ourPoison
        do {
            _ = try client.enqueue(many: all)
            result.record += ours.compactMap(\.jid)
            result.poison += ourPoison.compactMap(\.jid)
        } catch {
            result.uncertain += all.compactMap(\.jid)
            result.failedBatches.append("VerkClient, \(all.count) jobs: \(error)")
        }
        condition.lock()
        pushed.record += result.record
        pushed.rubyRecord += result.rubyRecord
        pushed.poison += result.poison
        pushed.uncertain += result.uncertain
        pushed.failedBatches += result.failedBatches
        condition.unlock()
    }
}
