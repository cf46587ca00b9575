/// Messages between the supervisor and a worker process. On the wire each is
/// `u32 big-endian length of (type + body) | u8 type | body`; see `FrameCodec`.
/// Jobs travel as the raw Sidekiq JSON bytes fetched from Redis: the supervisor never re-encodes them.
package enum Frame: Sendable, Equatable {
    /// First frame each way. A child whose version differs is stopped and restarted.
    case hello(version: UInt16, pid: Int32)
    /// Parent → child: run this job. `seq` names it in every later frame.
    case run(seq: UInt64, payload: [UInt8])
    /// Child → parent: a pool thread took the job (until then a crash just requeues it), with the job's
    /// hard timeout in seconds (0: none), which the supervisor enforces.
    case started(seq: UInt64, timeout: Double)
    /// Child → parent: the job finished.
    case done(seq: UInt64, micros: UInt64)
    /// Child → parent: the job threw (or could not be decoded, or its class is unknown).
    case failed(seq: UInt64, micros: UInt64, errorClass: String, message: String, backtrace: [String])
    /// Child → parent: a running job asks to enqueue a (normalized) job, now or at `at` (0 = now).
    case enqueue(request: UInt64, at: Double, payload: [UInt8])
    /// Parent → child: the enqueue was stored (error nil) or not.
    case enqueueResult(request: UInt64, error: String?)
    /// Parent → child: start no more jobs; hand back the ones not started, finish the rest, then exit.
    case drain
    /// Child → parent: a job it will not start (after `drain`); the parent puts it back in its queue.
    case released(seq: UInt64)

    package static let protocolVersion: UInt16 = 1

    /// The largest frame either side accepts: a Sidekiq job is usually under 1 KB, and Redis itself
    /// caps a value at 512 MB; 64 MB leaves room for big argument lists while bounding a bad length.
    package static let maxSize = 64 << 20

    package enum Kind: UInt8, Sendable {
        case hello = 1, run, started, done, failed, enqueue, enqueueResult, drain, released
    }

    package var kind: Kind {
        switch self {
        case .hello: return .hello
        case .run: return .run
        case .started: return .started
        case .done: return .done
        case .failed: return .failed
        case .enqueue: return .enqueue
        case .enqueueResult: return .enqueueResult
        case .drain: return .drain
        case .released: return .released
        }
    }
}

package enum FrameError: Error, Sendable, Equatable, CustomStringConvertible {
    case oversize(length: Int, max: Int)
    case empty
    case unknownType(UInt8)
    case truncated(Frame.Kind)
    case trailingBytes(Frame.Kind)
    case invalidUTF8(Frame.Kind)

    package var description: String {
        switch self {
        case .oversize(let length, let max): return "frame of \(length) bytes exceeds the maximum of \(max)"
        case .empty: return "frame with length 0"
        case .unknownType(let t): return "unknown frame type \(t)"
        case .truncated(let k): return "\(k) frame body is truncated"
        case .trailingBytes(let k): return "\(k) frame has unexpected trailing bytes"
        case .invalidUTF8(let k): return "\(k) frame has a string that is not UTF-8"
        }
    }
}
