import Foundation
import Testing
@testable import VerkShared
@testable import VerkWorker

/// A worker process's frames reach the supervisor in the order they were queued: a job's `started`,
/// written at once from its thread, never overtakes the `done` of the job that thread ran before. (It
/// did, with a writer thread: when the new job was a poison job, its crash left the finished one looking
/// as if it were running, a suspect, and it ran again; with concurrency 1 there were two "running" jobs
/// and no culprit. The chaos run found it.) The outbox now writes by combining: whichever thread finds no
/// write under way writes everything queued.
@Suite struct OutboxOrderTests {
    @Test func startedNeverOvertakesADoneQueuedBeforeIt() throws {
        var fds: [Int32] = [0, 0]
        #expect(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &fds) == 0)
        defer { close(fds[0]); close(fds[1]) }
        let outbox = Outbox(fd: fds[0]) {}
        outbox.send(.done(seq: 1, micros: 10))
        outbox.sendNow(.started(seq: 2, timeout: 0))
        let frames = try Self.read(fds[1], count: 2)
        #expect(frames == [.done(seq: 1, micros: 10), .started(seq: 2, timeout: 0)])
    }

    /// Eight threads queue 2,000 frames each, alternating `send` and `sendNow`, while a reader drains the
    /// socket: every frame arrives once, and each thread's frames arrive in the order it queued them.
    @Test func framesFromManyThreadsArriveOnceAndInOrder() throws {
        var fds: [Int32] = [0, 0]
        #expect(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &fds) == 0)
        defer { close(fds[0]); close(fds[1]) }
        let outbox = Outbox(fd: fds[0]) {}
        let (threads, perThread) = (8, 2_000)
        let group = DispatchGroup()
        for t in 0..<threads {
            let thread = Thread {
                for i in 0..<perThread {
                    let seq = UInt64(t * 1_000_000 + i)
                    if i % 2 == 0 { outbox.send(.done(seq: seq, micros: 1)) } else { outbox.sendNow(.started(seq: seq, timeout: 0)) }
                }
                group.leave()
            }
            group.enter()
            thread.start()
        }
        let frames = try Self.read(fds[1], count: threads * perThread)
        group.wait()
        var next = [Int](repeating: 0, count: threads)
        for frame in frames {
            let seq: UInt64
            switch frame {
            case .done(let s, _), .started(let s, _): seq = s
            default: Issue.record("unexpected frame \(frame)"); continue
            }
            let (t, i) = (Int(seq / 1_000_000), Int(seq % 1_000_000))
            #expect(i == next[t], "thread \(t): frame \(i) arrived when \(next[t]) was due")
            next[t] = i + 1
        }
        #expect(next == [Int](repeating: perThread, count: threads))
    }

    /// Reads `count` frames (blocking, 10 s at most).
    static func read(_ fd: Int32, count: Int) throws -> [Frame] {
        var decoder = FrameDecoder()
        let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 * 1024, alignment: 8)
        defer { scratch.deallocate() }
        var frames: [Frame] = []
        let deadline = Date().addingTimeInterval(10)
        while frames.count < count && Date() < deadline {
            var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&p, 1, 100) > 0 else { continue }
            guard case .bytes = FrameSocket.read(fd, into: &decoder, scratch: scratch) else { break }
            while let frame = try decoder.next() { frames.append(frame) }
        }
        return frames
    }
}
