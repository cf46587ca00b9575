import Foundation
import VerkShared

/// Which jids have been recorded so far, read incrementally (only what the record files gained since the
/// last look), for the drain phase's "is every job accounted for yet?".
final class RecordTally {
    private var offsets: [String: Int] = [:]
    private var partial: [String: String] = [:]
    private(set) var seen = Set<String>()

    func update(files: [String]) {
        for path in files {
            guard let handle = FileHandle(forReadingAtPath: path) else { continue }
            defer { try? handle.close() }
            let offset = offsets[path] ?? 0
            guard (try? handle.seek(toOffset: UInt64(offset))) != nil, let data = try? handle.readToEnd(), !data.isEmpty else { continue }
            offsets[path] = offset + data.count
            var lines = (partial[path, default: ""] + String(decoding: data, as: UTF8.self)).split(separator: "\n", omittingEmptySubsequences: false)
            partial[path] = String(lines.removeLast())
            for line in lines {
                guard let key = line.range(of: "\"jid\":\"") else { continue }
                let rest = line[key.upperBound...]
                if let end = rest.firstIndex(of: "\"") { seen.insert(String(rest[..<end])) }
            }
        }
    }
}

/// Where every job ended up, and what is left where nothing should be.
struct Accounting {
    /// RecordWorker jids never recorded, nor in the dead set, nor anywhere else in Redis: gone.
    var lost: [String] = []
    /// RecordWorker jids never recorded but still in Redis (a queue, an in-progress list, retry or
    /// schedule) when the deadline passed: not lost, not run yet (the nodes did not keep up).
    var unfinished: [String] = []
    /// RecordWorker jids in the dead set: killed with their process `max_process_kills` times.
    var deadRecords: [String] = []
    /// jid → its recorded runs, for the jids recorded more than once.
    var duplicates: [String: [RecordFiles.Run]] = [:]
    var poisonDead = 0
    var poisonMissing: [String] = []
    /// Recorded jids no push reported (a push that failed but landed).
    var unknownRecorded = 0
    var uncertainLanded = 0
    /// Lists and sets that should be empty at the end, with what they hold.
    var stranded: [String] = []
    var runs = 0

    /// Reads every record file and Redis (after the nodes stopped).
    static func settle(pushed: JobStream.Pushed, incarnations: [(label: String, records: String)], redis: RedisConnection) throws -> Accounting {
        var result = Accounting()
        var byJid: [Substring: [RecordFiles.Run]] = [:]
        for (label, path) in incarnations {
            for run in RecordFiles.runs(in: path, incarnation: label) { byJid[run.jid, default: []].append(run) }
        }
        result.runs = byJid.values.reduce(0) { $0 + $1.count }
        let dead = try deadJobs(redis)
        let waiting = try waitingJobs(redis)
        let uncertain = Set(pushed.uncertain)
        var expected = Set(pushed.record)
        for jid in uncertain where byJid[Substring(jid)] != nil || dead[jid] != nil {
            expected.insert(jid)
            result.uncertainLanded += 1
        }
        for jid in expected {
            if let runs = byJid[Substring(jid)] {
                if runs.count > 1 { result.duplicates[jid] = runs }
            } else if dead[jid] != nil {
                result.deadRecords.append(jid)
            } else if waiting.contains(jid) {
                result.unfinished.append(jid)
            } else {
                result.lost.append(jid)
            }
        }
        result.unknownRecorded = byJid.keys.filter { !expected.contains(String($0)) }.count
        for jid in pushed.poison {
            if dead[jid] == "Verk.ProcessCrashed" { result.poisonDead += 1 } else if waiting.contains(jid) { result.unfinished.append(jid) } else { result.poisonMissing.append(jid) }
        }
        result.stranded = try strandedJobs(redis)
        return result
    }

    /// jid → error_class of every job in the dead set.
    static func deadJobs(_ redis: RedisConnection) throws -> [String: String] {
        var dead: [String: String] = [:]
        let keys = KeySpace()
        let total = try redis.command("ZCARD", keys.dead).int ?? 0
        var start = 0
        while start < total {
            let members = try redis.command("ZRANGE", keys.dead, start, start + 999).array ?? []
            if members.isEmpty { break }
            for member in members {
                guard let bytes = member.bytes, let job = try? Job(parsing: bytes), let jid = job.jid else { continue }
                dead[jid] = job["error_class"]?.stringValue ?? ""
            }
            start += 1000
        }
        return dead
    }

    /// The jids of every job still in a queue, an in-progress or quarantine list, or the retry or schedule set.
    static func waitingJobs(_ redis: RedisConnection) throws -> Set<String> {
        let keys = KeySpace()
        var lists = [keys.queue("default")]
        for pattern in ["verk:inprogress:*", "verk:quarantine:*", "verk:quarantine-running:*"] {
            var cursor = "0"
            for _ in 0..<10_000 {
                let reply = try redis.command("SCAN", cursor, "MATCH", pattern, "COUNT", 1000).array ?? []
                cursor = reply.first?.string ?? "0"
                lists += (reply.count > 1 ? reply[1].array ?? [] : []).compactMap(\.string)
                if cursor == "0" { break }
            }
        }
        var payloads: [[UInt8]] = []
        for key in lists { payloads += (try redis.command("LRANGE", key, 0, -1).array ?? []).compactMap(\.bytes) }
        for key in [keys.retry, keys.schedule] { payloads += (try redis.command("ZRANGE", key, 0, -1).array ?? []).compactMap(\.bytes) }
        return Set(payloads.compactMap { (try? Job(parsing: $0))?.jid })
    }

    /// Every in-progress and quarantine list that is not empty, the queue, and the retry and schedule sets.
    static func strandedJobs(_ redis: RedisConnection) throws -> [String] {
        let keys = KeySpace()
        var found: [String] = []
        for pattern in ["verk:inprogress:*", "verk:quarantine:*", "verk:quarantine-running:*"] {
            var cursor = "0"
            for _ in 0..<10_000 {
                let reply = try redis.command("SCAN", cursor, "MATCH", pattern, "COUNT", 1000).array ?? []
                cursor = reply.first?.string ?? "0"
                for key in (reply.count > 1 ? reply[1].array ?? [] : []).compactMap(\.string) {
                    let n = try redis.command("LLEN", key).int ?? 0
                    if n > 0 { found.append("\(key) holds \(n)") }
                }
                if cursor == "0" { break }
            }
        }
        let queued = try redis.command("LLEN", keys.queue("default")).int ?? 0
        if queued > 0 { found.append("\(keys.queue("default")) holds \(queued)") }
        for (name, key) in [("retry", keys.retry), ("schedule", keys.schedule)] {
            let n = try redis.command("ZCARD", key).int ?? 0
            if n > 0 { found.append("\(name) holds \(n)") }
        }
        return found
    }
}
