import Foundation
import Testing
@testable import VerkShared
@testable import VerkWorker

/// A worker process's frames reach the supervisor in the order they were queued: a job's `started`,
/// written at once from its thread, never overtakes the `done` of the job that thread ran before, still
/// waiting for the writer thread. (It did: when the new job was a poison job, its crash left the finished
/// one looking as if it were running, a suspect, and it ran again; with concurrency 1 there were two
/// "running" jobs and no culprit. The chaos run found it.)
@Suite struct OutboxOrderTests {
    @Test func startedNeverOvertakesADoneQueuedBeforeIt() throws {
        var fds: [Int32] = [0, 0]
        #expect(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &fds) == 0)
        defer { close(fds[0]); close(fds[1]) }
        // The writer thread is not started: the done frame can only leave with the started one.
        let outbox = Outbox(fd: fds[0]) {}
        outbox.send(.done(seq: 1, micros: 10))
        outbox.sendNow(.started(seq: 2, timeout: 0))
        FrameSocket.setNonBlocking(fds[1])
        var decoder = FrameDecoder()
        let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: 4096, alignment: 8)
        defer { scratch.deallocate() }
        _ = FrameSocket.read(fds[1], into: &decoder, scratch: scratch)
        var frames: [Frame] = []
        while let frame = try decoder.next() { frames.append(frame) }
        #expect(frames == [.done(seq: 1, micros: 10), .started(seq: 2, timeout: 0)])
    }
}
