import Foundation
import Testing
import VerkShared

/// The payloads Verk 1.7.3, Exq 0.23 and Sidekiq 8 wrote, as they wrote them: `Tests/Fixtures/peers`, a
/// copy of the project's `shared/fixtures/peers` kept in the repository so a fresh clone tests them (its
/// README says which system wrote which file). Found by walking up from this file; `VERK_PEER_FIXTURES`
/// names the directory outright.
enum PeerFixtures {
    static let relativePaths = ["Tests/Fixtures/peers", "shared/fixtures/peers"]
    static let relativePath = relativePaths.joined(separator: " or ")

    static func directory(searchingFrom file: String = #filePath) throws -> URL {
        if let given = ProcessInfo.processInfo.environment["VERK_PEER_FIXTURES"], !given.isEmpty {
            return URL(fileURLWithPath: given)
        }
        var dir = URL(fileURLWithPath: file).deletingLastPathComponent()
        var looked: [String] = []
        while true {
            for relative in relativePaths {
                let candidate = dir.appendingPathComponent(relative)
                looked.append(candidate.path)
                if FileManager.default.fileExists(atPath: candidate.appendingPathComponent("README.md").path) { return candidate }
            }
            let parent = dir.deletingLastPathComponent()
            if parent.path == dir.path { break }
            dir = parent
        }
        let message = "the peer fixtures (\(relativePath)) are missing: looked in \(looked.joined(separator: ", ")). "
            + "Put the shared/ directory beside the clone, as CI does, or set VERK_PEER_FIXTURES to its fixtures/peers"
        Issue.record(Comment(rawValue: message))
        throw TestFailure.process(message)
    }

    /// Each payload of a file: the lines of a `.jsonl`, the whole of a `.json`, without the trailing newline.
    static func payloads(_ name: String) throws -> [String] {
        let url = try directory().appendingPathComponent(name)
        guard let text = try? String(contentsOf: url, encoding: .utf8) else {
            let message = "cannot read the peer fixture \(url.path)"
            Issue.record(Comment(rawValue: message))
            throw TestFailure.process(message)
        }
        if name.hasSuffix(".jsonl") { return text.split(separator: "\n").map(String.init).filter { !$0.isEmpty } }
        return [text.trimmingCharacters(in: .whitespacesAndNewlines)]
    }

    /// The fixture's payloads with the path placeholder its README describes replaced by `records`' path
    /// (it appears inside Verk's args string too; a temporary path needs no JSON escaping).
    static func payloads(_ name: String, recordingTo records: RecordFile) throws -> [String] {
        try payloads(name).map { $0.replacingOccurrences(of: "records.jsonl", with: records.path) }
    }

    /// One field of a raw payload, as written.
    static func field(_ payload: String, _ key: String) -> JSONValue? { (try? JSONParser.parse(payload))?[key] }
}

/// What RecordWorker was given: jid → the args of each run.
func recordedArgs(_ file: RecordFile) -> [String: [[JSONValue]]] {
    guard let text = try? String(contentsOfFile: file.path, encoding: .utf8) else { return [:] }
    var runs: [String: [[JSONValue]]] = [:]
    for line in text.split(separator: "\n") {
        guard let record = try? JSONParser.parse(String(line)), let jid = record["jid"]?.stringValue,
              let args = record["args"]?.arrayValue else { continue }
        runs[jid, default: []].append(args)
    }
    return runs
}
