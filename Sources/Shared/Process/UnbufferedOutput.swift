import Glibc

/// Text written straight to a file descriptor, past stdio's buffers (as `FileHandle.write` did): a line a
/// reader must see at once, or the last words of a process about to exit.
package enum UnbufferedOutput {
    package static func write(_ text: String, to fd: Int32 = STDERR_FILENO) {
        let bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if n > 0 { offset += n } else if n < 0 && errno == EINTR { continue } else { return }
        }
    }
}
