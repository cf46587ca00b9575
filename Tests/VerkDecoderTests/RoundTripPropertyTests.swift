import PropertyBased
import Testing
import VerkFuzzInvariants
@testable import VerkShared

/// Random values through the wire formats and back. A failure prints the input and a seed to replay it
/// with `.fixedSeed(…)`.
@Suite struct JSONRoundTripPropertyTests {
    @Test func aWrittenValueParsesBackEqualAndWritesTheSameBytes() async {
        await propertyCheck(count: 500, input: Generators.json) { value in
            let written = JSONWriter.encode(value)
            let parsed = try JSONParser.parse(written)
            #expect(parsed == value)
            // Stronger than ==, which compares numbers by value: the literal text and key order are kept.
            #expect(JSONWriter.encode(parsed) == written)
        }
    }

    @Test func whitespaceBetweenTokensChangesNothing() async {
        await propertyCheck(count: 300, input: Generators.spacedJSON) { pair in
            let (value, spaced) = pair
            let parsed = try JSONParser.parse(spaced)
            #expect(JSONWriter.encode(parsed) == JSONWriter.encode(value))
        }
    }

    @Test func damagedJSONIsRefusedOrRoundTrips() async {
        await propertyCheck(count: 1000, input: Generators.damagedJSONBytes) { bytes in
            #expect(throws: Never.self) { try JSONParserInvariants.check(bytes) }
        }
    }
}

@Suite struct FrameRoundTripPropertyTests {
    @Test func encodedFramesDecodeToThemselvesWhateverTheReadSizes() async {
        await propertyCheck(count: 500, input: Generators.frames, Generators.readSizes) { frames, sizes in
            var stream: [UInt8] = []
            for frame in frames { FrameEncoder.append(frame, to: &stream) }
            var decoder = FrameDecoder()
            var decoded: [Frame] = []
            var offset = 0, read = 0
            while offset < stream.count {
                let n = min(sizes[read % sizes.count], stream.count - offset)
                decoder.feed(Array(stream[offset..<offset + n]))
                offset += n
                read += 1
                while let frame = try decoder.next() { decoded.append(frame) }
            }
            #expect(decoded == frames)
            #expect(decoder.bufferedBytes == 0)
        }
    }

    @Test func damagedFrameBytesThrowOrDecodeNeverTrap() async {
        await propertyCheck(count: 1000, input: Generators.damagedFrameBytes) { bytes in
            // Decoding throws a FrameError or returns frames (a trap would end the test run); the fuzz
            // invariants add: the same result for any read sizes, and canonical re-encoding.
            var decoder = FrameDecoder()
            decoder.feed(bytes)
            do throws(FrameError) { while try decoder.next() != nil {} } catch { #expect(!error.description.isEmpty) }
            #expect(throws: Never.self) { try FrameDecoderInvariants.check(bytes) }
        }
    }
}
