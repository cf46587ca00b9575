import CVerkSystem
import Glibc
import Synchronization

/// Job ids as Sidekiq makes them (`SecureRandom.hex(12)`): 24 lowercase hex digits from the system's
/// cryptographic random source. The bytes are drawn 4 KiB at a time: one `getrandom` per job byte was
/// most of the CPU of a bulk enqueue (12 system calls per job).
public enum JobID {
    private static let pool = Mutex(RandomBytes())

    public static func generate() -> String {
        let bytes = pool.withLock { $0.take12() }
        let hex: StaticString = "0123456789abcdef"
        return String(unsafeUninitializedCapacity: 24) { out in
            hex.withUTF8Buffer { digits in
                withUnsafeBytes(of: bytes) { raw in
                    for (i, b) in raw.prefix(12).enumerated() {
                        out[2 * i] = digits[Int(b >> 4)]
                        out[2 * i + 1] = digits[Int(b & 0xF)]
                    }
                }
            }
            return 24
        }
    }

    /// A buffer of system random bytes, refilled when spent (bytes are never handed out twice).
    struct RandomBytes: ~Copyable {
        private var buffer = [UInt8](repeating: 0, count: 4096)
        private var next = 4096

        mutating func take12() -> (UInt64, UInt32) {
            if next + 12 > buffer.count {
                buffer.withUnsafeMutableBytes { raw in
                    var offset = 0
                    while offset < raw.count {
                        let n = verk_getrandom(raw.baseAddress! + offset, raw.count - offset)
                        if n > 0 { offset += Int(n); continue }
                        if n < 0 && errno == EINTR { continue }
                        // No getrandom (a very old kernel): the standard library's source, 8 bytes a call.
                        var rng = SystemRandomNumberGenerator()
                        while offset + 8 <= raw.count {
                            raw.storeBytes(of: rng.next(), toByteOffset: offset, as: UInt64.self)
                            offset += 8
                        }
                        break
                    }
                }
                next = 0
            }
            defer { next += 12 }
            return buffer.withUnsafeBytes { raw in
                (raw.loadUnaligned(fromByteOffset: next, as: UInt64.self), raw.loadUnaligned(fromByteOffset: next + 8, as: UInt32.self))
            }
        }
    }
}
