import Testing
@testable import VerkSupervisor

/// A node fetches only while it knows its lease is its own: until the last renewal's send time plus the
/// lease's life.
@Suite struct LeaseFenceTests {
    @Test func closedUntilTheLeaseIsTakenThenOpenForOneLeaseLifeAfterEachRenewal() {
        let fence = LeaseFence(ttl: 3)
        #expect(!fence.isOpen(at: 1_000), "no lease yet: no fetch")
        fence.acquired(now: 1_000)
        #expect(fence.isOpen(at: 1_002.6) && !fence.isOpen(at: 1_002.8), "counted from a tenth of the life before")
        fence.confirmed(sentAt: 1_001)
        #expect(fence.isOpen(at: 1_003.9) && !fence.isOpen(at: 1_004))
        fence.confirmed(sentAt: 1_000.5)  // a late reply to an older renewal never moves it back
        #expect(fence.isOpen(at: 1_003.9))
        // Cut off: no renewal for longer than the life, so the fence stays shut until one succeeds.
        #expect(!fence.isOpen(at: 1_010))
        fence.confirmed(sentAt: 1_010)
        #expect(fence.isOpen(at: 1_010.1))
    }
}
