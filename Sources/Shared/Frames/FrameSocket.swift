import Glibc

/// Blocking and non-blocking I/O helpers for a framed Unix socket. Writes use MSG_NOSIGNAL so a dead
/// peer is an EPIPE error, never a SIGPIPE.
package enum FrameSocket {
    package enum IOResult: Equatable {
        case bytes(Int)
        case wouldBlock
        case closed
        case failed(Int32)
    }

    package static func read(_ fd: Int32, into decoder: inout FrameDecoder, scratch: UnsafeMutableRawBufferPointer) -> IOResult {
        while true {
            let n = Glibc.read(fd, scratch.baseAddress, scratch.count)
            if n > 0 {
                decoder.feed(UnsafeRawBufferPointer(rebasing: scratch[0..<n]))
                return .bytes(n)
            }
            if n == 0 { return .closed }
            if errno == EINTR { continue }
            if errno == EAGAIN || errno == EWOULDBLOCK { return .wouldBlock }
            if errno == ECONNRESET { return .closed }
            return .failed(errno)
        }
    }

    /// Writes as much of `buffer[offset...]` as the socket takes; advances `offset`.
    package static func write(_ fd: Int32, _ buffer: [UInt8], offset: inout Int) -> IOResult {
        var total = 0
        while offset < buffer.count {
            let n = buffer.withUnsafeBytes { raw in
                send(fd, raw.baseAddress! + offset, raw.count - offset, Int32(MSG_NOSIGNAL))
            }
            if n > 0 { offset += n; total += n; continue }
            if n < 0 && errno == EINTR { continue }
            if n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) { return total > 0 ? .bytes(total) : .wouldBlock }
            if n < 0 && (errno == EPIPE || errno == ECONNRESET) { return .closed }
            return .failed(errno)
        }
        return .bytes(total)
    }

    /// Writes everything, blocking (the child's writer thread).
    package static func writeAll(_ fd: Int32, _ buffer: [UInt8]) -> Bool {
        var offset = 0
        while offset < buffer.count {
            switch write(fd, buffer, offset: &offset) {
            case .bytes: continue
            case .wouldBlock:
                var p = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
                _ = poll(&p, 1, 1000)
            case .closed, .failed: return false
            }
        }
        return true
    }

    package static func setNonBlocking(_ fd: Int32) {
        let flags = fcntl(fd, F_GETFL)
        _ = fcntl(fd, F_SETFL, flags | O_NONBLOCK)
    }

    package static func setCloseOnExec(_ fd: Int32) {
        let flags = fcntl(fd, F_GETFD)
        _ = fcntl(fd, F_SETFD, flags | FD_CLOEXEC)
    }
}
