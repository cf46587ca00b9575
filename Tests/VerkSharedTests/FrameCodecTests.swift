import Foundation
import Testing
@testable import VerkShared

@Suite struct FrameCodecTests {
    static let samples: [Frame] = [
        .hello(version: Frame.protocolVersion, pid: 4242),
        .run(seq: 7, payload: Array(#"{"class":"A","args":[]}"#.utf8)),
        .started(seq: 7, timeout: 2.5),
        .done(seq: 7, micros: 1234),
        .failed(seq: 8, micros: 99, errorClass: "E", message: "bööm", backtrace: ["a", "b"]),
        .enqueue(request: 3, at: 1_763_884_800.25, payload: [1, 2, 3]),
        .enqueueResult(request: 3, error: nil),
        .enqueueResult(request: 4, error: "no"),
        .drain,
        .released(seq: 9),
    ]

    @Test func everyFrameRoundTripsEvenOneByteAtATime() throws {
        var bytes: [UInt8] = []
        for f in Self.samples { FrameEncoder.append(f, to: &bytes) }
        var decoder = FrameDecoder()
        var decoded: [Frame] = []
        for b in bytes {
            decoder.feed([b])
            while let f = try decoder.next() { decoded.append(f) }
        }
        #expect(decoded == Self.samples)
        #expect(decoder.bufferedBytes == 0)
    }

    @Test func severalFramesInOneReadAndAPartialTail() throws {
        var bytes: [UInt8] = []
        for f in Self.samples { FrameEncoder.append(f, to: &bytes) }
        var decoder = FrameDecoder()
        decoder.feed(Array(bytes.dropLast(3)))
        var decoded: [Frame] = []
        while let f = try decoder.next() { decoded.append(f) }
        #expect(decoded == Array(Self.samples.dropLast()))
        decoder.feed(Array(bytes.suffix(3)))
        #expect(try decoder.next() == Self.samples.last)
    }

    @Test func oversizeIsRejectedBeforeAllocating() {
        var decoder = FrameDecoder(maxSize: 1024)
        decoder.feed([0x7F, 0xFF, 0xFF, 0xFF, 2])
        #expect(throws: FrameError.oversize(length: 0x7FFF_FFFF, max: 1024)) { try decoder.next() }
    }

    @Test func emptyUnknownTruncatedAndTrailingFramesAreErrors() {
        var a = FrameDecoder()
        a.feed([0, 0, 0, 0])
        #expect(throws: FrameError.empty) { try a.next() }
        var b = FrameDecoder()
        b.feed([0, 0, 0, 1, 0xEE])
        #expect(throws: FrameError.unknownType(0xEE)) { try b.next() }
        var c = FrameDecoder()
        c.feed([0, 0, 0, 3, Frame.Kind.done.rawValue, 0, 0])
        #expect(throws: FrameError.truncated(.done)) { try c.next() }
        var d = FrameDecoder()
        d.feed([0, 0, 0, 2, Frame.Kind.drain.rawValue, 9])
        #expect(throws: FrameError.trailingBytes(.drain)) { try d.next() }
        var e = FrameDecoder()
        // failed frame claiming 1e9 backtrace lines in a tiny body
        e.feed([0, 0, 0, 29, Frame.Kind.failed.rawValue] + [UInt8](repeating: 0, count: 16) + [0, 0, 0, 0, 0, 0, 0, 0] + [0x3B, 0x9A, 0xCA, 0x00])
        #expect(throws: FrameError.truncated(.failed)) { try e.next() }
    }

    @Test func randomGarbageNeverTraps() {
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<2000 {
            var decoder = FrameDecoder(maxSize: 4096)
            decoder.feed((0..<Int.random(in: 0..<64, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) })
            while let _ = try? decoder.next() {}
        }
    }
}

@Suite struct ConfigurationTests {
    @Test func environmentOverridesAndQueuesParse() throws {
        var c = VerkConfiguration()
        try c.apply(environment: ["VERK_QUEUES": "default:5, mail:2,low", "VERK_NODE_ID": "pod-0", "VERK_SHUTDOWN_TIMEOUT": "8",
                                  "VERK_POLL_INTERVAL": "0.2", "VERK_BIN_DIR": "/ignored"])
        #expect(c.queues == [QueueConfiguration("default", concurrency: 5), QueueConfiguration("mail", concurrency: 2), QueueConfiguration("low", concurrency: 10)])
        #expect(c.nodeID == "pod-0" && c.shutdownTimeout == 8 && c.pollInterval == 0.2)
        try c.validate()
    }

    @Test(arguments: [
        ("VERK_QUEUES", "bad name:3", "letters, digits"),
        ("VERK_QUEUES", "a:0", "between 1 and 1000"),
        ("VERK_QUEUES", "a:2,a:3", "listed twice"),
        ("VERK_QUEUES", "a:", "NAME:CONCURRENCY"),
        ("VERK_SHUTDOWN_TIMEOUT", "soon", "expected seconds"),
        ("VERK_REDIS_URL", "rediss://u:hunter2@h/0", "TLS"),
        ("VERK_LOG_LEVEL", "loud", "use trace"),
        ("VERK_MAX_RETRIES", "-1", "0 or more"),
        ("VERK_WORKER_MEMORY_LIMIT", "8", "at least 16"),
    ])
    func invalidConfigurationIsRefusedPrecisely(_ name: String, _ value: String, _ expected: String) {
        #expect {
            var c = VerkConfiguration()
            try c.apply(environment: [name: value])
            try c.validate()
        } throws: { error in
            "\(error)".contains(expected) && !"\(error)".contains("hunter2")
        }
    }
}

@Suite struct ConfigurationFileTests {
    func write(_ text: String) throws -> String {
        let path = NSTemporaryDirectory() + "verk-config-" + JobID.generate().prefix(8) + ".json"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func aJSONFileSetsEveryFieldAndTheEnvironmentWins() throws {
        let path = try write("""
            {"redis_url": "redis://10.0.0.5:6380/2", "namespace": "app", "queues": {"default": 3, "mail": 2},
             "node_id": "pod-1", "max_retries": 7, "max_dead_jobs": 50, "dead_timeout": 3600, "poll_interval": 0.5,
             "shutdown_timeout": 20, "prefetch": 0, "log_level": "debug", "heartbeat_interval": 2}
            """)
        defer { unlink(path) }
        var c = VerkConfiguration()
        try c.apply(file: path)
        #expect(c.redisURL == "redis://10.0.0.5:6380/2" && c.namespace == "app" && c.nodeID == "pod-1")
        #expect(Set(c.queues.map { "\($0.name):\($0.concurrency)" }) == ["default:3", "mail:2"])
        #expect(c.maxRetries == 7 && c.maxDeadJobs == 50 && c.deadTimeout == 3600 && c.pollInterval == 0.5)
        #expect(c.shutdownTimeout == 20 && c.prefetch == 0 && c.logLevel == "debug" && c.heartbeatInterval == 2)
        try c.apply(environment: ["VERK_NODE_ID": "pod-2"])
        #expect(c.nodeID == "pod-2")
        try c.validate()
    }

    @Test func badFilesAreRefusedWithThePathAndTheReason() throws {
        let typo = try write(#"{"shutdown_timout": 3}"#)
        defer { unlink(typo) }
        var c = VerkConfiguration()
        #expect { try c.apply(file: typo) } throws: { "\($0)".contains("unknown configuration field 'shutdown_timout'") }
        let broken = try write("{\"queues\": ")
        defer { unlink(broken) }
        #expect { try c.apply(file: broken) } throws: { "\($0)".contains(broken) && "\($0)".contains("invalid JSON") }
        #expect { try c.apply(file: "/nonexistent/verk.json") } throws: { "\($0)".contains("cannot read configuration file") }
    }
}
