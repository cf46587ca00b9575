import Foundation
import Testing

/// Linking Foundation costs every process of a Verk app about 3.7 MB of resident memory (CoreFoundation
/// starts with the process), and an app runs one process per queue: the targets linked into an app, and
/// the demo, use FoundationEssentials (with Glibc, Dispatch and Synchronization) only. The CLI, the chaos
/// tool and the tests may use Foundation. `scripts/check-deploy` looks for Foundation's symbols in the
/// release binary itself, which also catches a dependency that brings Foundation in.
struct NoFoundationTests {
    static let linkedIntoApps = ["Sources/Shared", "Sources/Supervisor", "Sources/WorkerProcess", "Sources/Verk",
                                 "Sources/VerkTesting", "examples/Demo"]
    /// `import Foundation`, `@preconcurrency import FoundationNetworking`, `import struct Foundation.Date`…;
    /// not FoundationEssentials.
    static var foundationImport: Regex<(Substring, Substring?, Substring?, Substring)> {
        #/^\s*(@\w+\s+)*import\s+(\w+\s+)?(Foundation|FoundationNetworking|FoundationXML|FoundationInternationalization|CoreFoundation)(?!\w)/#
    }

    @Test func noTargetLinkedIntoAnAppImportsFoundation() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        var checked = 0
        var offenders: [String] = []
        for directory in Self.linkedIntoApps {
            let base = root.appendingPathComponent(directory)
            let files = try #require(FileManager.default.enumerator(atPath: base.path), "\(directory) is missing")
            for case let file as String in files where file.hasSuffix(".swift") {
                let text = try String(contentsOf: base.appendingPathComponent(file), encoding: .utf8)
                checked += 1
                for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated()
                where line.contains("import") && line.contains(Self.foundationImport) {
                    offenders.append("\(directory)/\(file):\(number + 1): \(line)")
                }
            }
        }
        #expect(checked > 50, "only \(checked) files found under \(Self.linkedIntoApps)")
        #expect(offenders.isEmpty, "import FoundationEssentials (or Glibc, Dispatch) instead:\n\(offenders.joined(separator: "\n"))")
    }

    @Test func theGuardSeesEveryFormOfTheImport() {
        for line in ["import Foundation", "  import Foundation // why", "@preconcurrency import FoundationNetworking",
                     "import struct Foundation.Date", "@_exported import Foundation", "import FoundationXML"] {
            #expect(line.contains(Self.foundationImport), "\(line)")
        }
        for line in ["import FoundationEssentials", "// import Foundation", "import Glibc", "/// see Foundation's `import`"] {
            #expect(!line.contains(Self.foundationImport), "\(line)")
        }
    }
}
