import Foundation
import Testing
import VerkFuzzInvariants

/// Every input of the committed fuzz corpus (seeds, and the inputs that once broke an invariant) through
/// the fuzz targets' own invariants: what `scripts/fuzz` found stays fixed, without a fuzzer build.
@Suite struct FuzzCorpusReplayTests {
    static let corpus = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fuzz/Corpus")

    static let checks: [String: @Sendable ([UInt8]) throws(InvariantViolation) -> Void] = [
        "FrameDecoderFuzz": FrameDecoderInvariants.check,
        "JSONParserFuzz": JSONParserInvariants.check,
        "ConfigurationFuzz": ConfigurationInvariants.check,
    ]

    @Test(arguments: ["FrameDecoderFuzz", "JSONParserFuzz", "ConfigurationFuzz"])
    func everyCorpusInputKeepsTheInvariants(_ target: String) throws {
        let directory = Self.corpus.appendingPathComponent(target)
        let files = try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
        #expect(files.count >= 5, "a handful of seeds per target")
        let check = try #require(Self.checks[target])
        for file in files {
            let bytes = try [UInt8](Data(contentsOf: directory.appendingPathComponent(file)))
            #expect(throws: Never.self, "\(target)/\(file)") { try check(bytes) }
        }
    }
}
