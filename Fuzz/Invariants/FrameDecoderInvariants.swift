import VerkShared

/// What `FrameDecoder` promises on any bytes a worker process sends (its job code is untrusted):
/// - it never traps: each `next()` returns a frame, nil (more bytes needed) or a `FrameError` with a message;
/// - the read boundaries do not matter: the bytes fed at once, one at a time or in uneven chunks give the
///   same frames and the same error;
/// - every frame it decodes re-encodes to the bytes it came from (one encoding per frame), and those
///   decode to the same frame; the one exception is `enqueueResult`'s error flag, where any non-zero
///   byte means "an error follows" and the encoder writes 1;
/// - a smaller `maxSize` only ever cuts the stream short with `.oversize`, before allocating anything.
public enum FrameDecoderInvariants {
    public static func check(_ bytes: [UInt8]) throws(InvariantViolation) {
        let whole = decode(bytes, chunks: [bytes.count], maxSize: Frame.maxSize)
        if let error = whole.error { try ensure(!error.description.isEmpty, "FrameError \(error) has an empty description") }
        try ensure(whole.error != nil || whole.buffered == bytes.count - whole.consumed,
                   "bufferedBytes \(whole.buffered) after consuming \(whole.consumed) of \(bytes.count) bytes")

        // Whatever the read boundaries, the same frames and the same error.
        for chunks in [[1], [4], [1, 2, 3, 5, 7, 64]] {
            let split = decode(bytes, chunks: chunks, maxSize: Frame.maxSize)
            try ensure(split.encodedFrames == whole.encodedFrames && split.error == whole.error,
                       "reads of \(chunks) bytes decode \(split.frames.count) frames and \(String(describing: split.error)), "
                       + "one read decodes \(whole.frames.count) and \(String(describing: whole.error)), for \(bytes.shown)")
            if whole.error == nil { try ensure(split.buffered == whole.buffered, "reads of \(chunks) bytes leave \(split.buffered) bytes buffered, one read \(whole.buffered)") }
        }

        // Each frame re-encodes to the bytes it was decoded from, and decodes back to itself.
        for (frame, original) in zip(whole.frames, whole.slices) {
            let encoded = FrameEncoder.encode(frame)
            try ensure(encoded == original || isFlagVariant(encoded, original, frame),
                       "\(frame.kind) frame re-encodes to \(encoded.shown), decoded from \(original.shown)")
            let again = decode(encoded, chunks: [encoded.count], maxSize: Frame.maxSize)
            // Compared as bytes: a `started` frame's timeout may be NaN, which is not == to itself.
            try ensure(again.error == nil && again.buffered == 0 && again.encodedFrames == [encoded],
                       "\(frame.kind) frame re-encoded as \(encoded.shown) decodes to \(again.frames) and \(String(describing: again.error))")
        }

        // A small limit refuses big frames before reading them, and changes nothing before the first one.
        let limit = 24
        let small = decode(bytes, chunks: [bytes.count], maxSize: limit)
        try ensure(small.frames.count <= whole.frames.count
                   && small.encodedFrames == Array(whole.encodedFrames.prefix(small.frames.count)),
                   "maxSize \(limit) decodes frames that the default limit does not")
        if small.frames.count < whole.frames.count || small.error != whole.error {
            guard case .oversize(let length, let max)? = small.error, length > limit, max == limit else {
                throw InvariantViolation("maxSize \(limit) stopped with \(String(describing: small.error)), not .oversize, for \(bytes.shown)")
            }
        }
    }

    struct Outcome {
        var frames: [Frame] = []
        /// The bytes each frame was decoded from (kept for a single read only).
        var slices: [[UInt8]] = []
        var error: FrameError?
        var buffered = 0
        var consumed = 0
        var encodedFrames: [[UInt8]] { frames.map(FrameEncoder.encode) }
    }

    /// Feeds `bytes` in reads of the given sizes (cycling), taking every complete frame after each read,
    /// and stops at the first error as the supervisor does (it closes the connection).
    static func decode(_ bytes: [UInt8], chunks: [Int], maxSize: Int) -> Outcome {
        var decoder = FrameDecoder(maxSize: maxSize)
        var out = Outcome()
        var fed = 0, chunk = 0
        repeat {
            let n = min(max(chunks[chunk % chunks.count], 1), bytes.count - fed)
            bytes.withUnsafeBytes { decoder.feed(UnsafeRawBufferPointer(rebasing: $0[fed..<fed + n])) }
            fed += n
            chunk += 1
            while true {
                let start = fed - decoder.bufferedBytes
                do {
                    guard let frame = try decoder.next() else { break }
                    out.frames.append(frame)
                    let end = fed - decoder.bufferedBytes
                    if chunks == [bytes.count] { out.slices.append(Array(bytes[start..<end])) }
                    out.consumed = end
                } catch {
                    out.error = error
                    out.buffered = decoder.bufferedBytes
                    return out
                }
            }
        } while fed < bytes.count
        out.buffered = decoder.bufferedBytes
        return out
    }

    /// `enqueueResult` with an error: the flag byte (after the 4-byte length, the type and the 8-byte
    /// request) may be any non-zero value on the wire; the encoder writes 1.
    static func isFlagVariant(_ encoded: [UInt8], _ original: [UInt8], _ frame: Frame) -> Bool {
        guard case .enqueueResult(_, .some) = frame, encoded.count == original.count, encoded.count > 13 else { return false }
        let flag = 13
        return encoded[flag] == 1 && original[flag] > 1
            && encoded[..<flag] == original[..<flag] && encoded[(flag + 1)...] == original[(flag + 1)...]
    }
}
