import Foundation

/// What RecordWorker wrote: one `{"jid":…,"args":[…]}` line per run of a job, appended with one write
/// (O_APPEND) to `records.jsonl` in the working directory of the node incarnation that ran it.
enum RecordFiles {
    static let name = "records.jsonl"

    /// One recorded run: the jid, the incarnation's label and the line's offset in its file.
    struct Run {
        let jid: Substring
        let incarnation: String
        let offset: Int
    }

    /// Every run recorded in `path`.
    static func runs(in path: String, incarnation: String) -> [Run] {
        guard let data = FileManager.default.contents(atPath: path) else { return [] }
        var runs: [Run] = []
        let text = String(decoding: data, as: UTF8.self)
        var offset = 0
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            defer { offset += line.utf8.count + 1 }
            guard let key = line.range(of: "\"jid\":\"") else { continue }
            let rest = line[key.upperBound...]
            guard let end = rest.firstIndex(of: "\"") else { continue }
            runs.append(Run(jid: rest[..<end], incarnation: incarnation, offset: offset))
        }
        return runs
    }

    static func size(_ path: String) -> Int {
        var st = stat()
        return stat(path, &st) == 0 ? Int(st.st_size) : 0
    }
}
