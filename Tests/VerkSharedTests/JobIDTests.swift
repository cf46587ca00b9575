import Testing
import VerkShared

/// Job ids look like Sidekiq's (`SecureRandom.hex(12)`) and never repeat, across refills of the random
/// buffer and from many threads.
@Suite struct JobIDTests {
    @Test func twentyFourLowercaseHexDigitsNeverRepeated() async {
        let ids = await withTaskGroup(of: [String].self) { group in
            for _ in 0..<4 { group.addTask { (0..<5_000).map { _ in JobID.generate() } } }
            return await group.reduce(into: [String]()) { $0 += $1 }
        }
        #expect(ids.count == 20_000 && Set(ids).count == 20_000)
        #expect(ids.allSatisfy { $0.utf8.count == 24 && $0.utf8.allSatisfy { (48...57).contains($0) || (97...102).contains($0) } })
    }
}
