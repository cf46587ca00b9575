/// Encodes frames into a byte buffer (several frames per write) and decodes them from a stream
/// of reads, whatever the read boundaries. Lengths are checked before anything is allocated.
package enum FrameEncoder {
    package static func append(_ frame: Frame, to out: inout [UInt8]) {
        let start = out.count
        out.append(contentsOf: [0, 0, 0, 0, frame.kind.rawValue])
        switch frame {
        case .hello(let version, let pid):
            put(UInt64(version), 2, &out)
            put(UInt64(UInt32(bitPattern: pid)), 4, &out)
        case .run(let seq, let payload):
            put(seq, 8, &out)
            out.append(contentsOf: payload)
        case .started(let seq, let timeout):
            put(seq, 8, &out)
            put(timeout.bitPattern, 8, &out)
        case .released(let seq):
            put(seq, 8, &out)
        case .done(let seq, let micros):
            put(seq, 8, &out)
            put(micros, 8, &out)
        case .failed(let seq, let micros, let errorClass, let message, let backtrace):
            put(seq, 8, &out)
            put(micros, 8, &out)
            putString(errorClass, &out)
            putString(message, &out)
            put(UInt64(backtrace.count), 4, &out)
            for line in backtrace { putString(line, &out) }
        case .enqueue(let request, let at, let payload):
            put(request, 8, &out)
            put(at.bitPattern, 8, &out)
            out.append(contentsOf: payload)
        case .enqueueResult(let request, let error):
            put(request, 8, &out)
            out.append(error == nil ? 0 : 1)
            if let error { putString(error, &out) }
        case .drain:
            break
        }
        let length = UInt32(out.count - start - 4)
        out[start] = UInt8(length >> 24)
        out[start + 1] = UInt8((length >> 16) & 0xFF)
        out[start + 2] = UInt8((length >> 8) & 0xFF)
        out[start + 3] = UInt8(length & 0xFF)
    }

    package static func encode(_ frame: Frame) -> [UInt8] {
        var out: [UInt8] = []
        append(frame, to: &out)
        return out
    }

    static func put(_ value: UInt64, _ width: Int, _ out: inout [UInt8]) {
        for i in stride(from: width - 1, through: 0, by: -1) { out.append(UInt8((value >> (UInt64(i) * 8)) & 0xFF)) }
    }

    static func putString(_ s: String, _ out: inout [UInt8]) {
        put(UInt64(s.utf8.count), 4, &out)
        out.append(contentsOf: s.utf8)
    }
}

/// Accumulates bytes from reads and yields complete frames. A malformed frame is an error the caller
/// answers by closing the connection; the decoder never traps on input.
package struct FrameDecoder: Sendable {
    private var buffer: [UInt8] = []
    private var offset = 0
    package let maxSize: Int

    package init(maxSize: Int = Frame.maxSize) { self.maxSize = maxSize }

    package var bufferedBytes: Int { buffer.count - offset }

    package mutating func feed(_ bytes: UnsafeRawBufferPointer) {
        compactIfNeeded()
        buffer.append(contentsOf: bytes)
    }

    package mutating func feed(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { feed($0) }
    }

    /// The next complete frame, or nil if more bytes are needed.
    package mutating func next() throws(FrameError) -> Frame? {
        guard buffer.count - offset >= 4 else { return nil }
        let length = Int(buffer[offset]) << 24 | Int(buffer[offset + 1]) << 16 | Int(buffer[offset + 2]) << 8 | Int(buffer[offset + 3])
        guard length > 0 else { throw .empty }
        guard length <= maxSize else { throw .oversize(length: length, max: maxSize) }
        guard buffer.count - offset - 4 >= length else { return nil }
        let start = offset + 4
        offset = start + length
        return try buffer.withUnsafeBufferPointer { all throws(FrameError) -> Frame in
            var r = BodyReader(bytes: UnsafeBufferPointer(rebasing: all[start + 1..<start + length]))
            guard let kind = Frame.Kind(rawValue: all[start]) else { throw .unknownType(all[start]) }
            r.kind = kind
            let frame: Frame
            switch kind {
            case .hello:
                frame = .hello(version: UInt16(try r.int(2)), pid: Int32(bitPattern: UInt32(try r.int(4))))
            case .run:
                frame = .run(seq: try r.int(8), payload: r.rest())
            case .started: frame = .started(seq: try r.int(8), timeout: Double(bitPattern: try r.int(8)))
            case .released: frame = .released(seq: try r.int(8))
            case .done: frame = .done(seq: try r.int(8), micros: try r.int(8))
            case .failed:
                let seq = try r.int(8), micros = try r.int(8)
                let errorClass = try r.string(), message = try r.string()
                let count = Int(try r.int(4))
                guard count <= r.remaining / 4 else { throw .truncated(kind) }
                var lines: [String] = []
                for _ in 0..<count { lines.append(try r.string()) }
                frame = .failed(seq: seq, micros: micros, errorClass: errorClass, message: message, backtrace: lines)
            case .enqueue:
                frame = .enqueue(request: try r.int(8), at: Double(bitPattern: try r.int(8)), payload: r.rest())
            case .enqueueResult:
                let request = try r.int(8)
                let hasError = try r.int(1)
                frame = .enqueueResult(request: request, error: hasError == 0 ? nil : try r.string())
            case .drain:
                frame = .drain
            }
            guard r.remaining == 0 else { throw .trailingBytes(kind) }
            return frame
        }
    }

    /// Drops consumed bytes once they dominate the buffer, so appends stay cheap.
    private mutating func compactIfNeeded() {
        if offset > 0 && (offset == buffer.count || offset > 65_536) {
            buffer.removeSubrange(0..<offset)
            offset = 0
        }
    }

    struct BodyReader {
        let bytes: UnsafeBufferPointer<UInt8>
        var index = 0
        var kind = Frame.Kind.drain
        var remaining: Int { bytes.count - index }

        mutating func int(_ width: Int) throws(FrameError) -> UInt64 {
            guard remaining >= width else { throw .truncated(kind) }
            var v: UInt64 = 0
            for i in 0..<width { v = v << 8 | UInt64(bytes[index + i]) }
            index += width
            return v
        }

        mutating func string() throws(FrameError) -> String {
            let n = Int(try int(4))
            guard remaining >= n else { throw .truncated(kind) }
            let slice = UnsafeBufferPointer(rebasing: bytes[index..<index + n])
            index += n
            guard let s = String(validating: slice, as: UTF8.self) else { throw .invalidUTF8(kind) }
            return s
        }

        mutating func rest() -> [UInt8] {
            // Copied out: a slice of the read buffer would make the next append copy the whole buffer.
            let out = Array(UnsafeBufferPointer(rebasing: bytes[index...]))
            index = bytes.count
            return out
        }
    }
}
