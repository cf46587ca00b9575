// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "verk-swift",
    platforms: [.macOS(.v15)],
    products: [
        // The one library a user's app depends on: workers, client, entry point.
        .library(name: "Verk", targets: ["Verk"]),
        // For an app's unit tests: run its workers inline or collect their jobs, without Redis.
        .library(name: "VerkTesting", targets: ["VerkTesting"]),
        .executable(name: "verk", targets: ["VerkCLI"]),
        .executable(name: "verk-demo", targets: ["VerkDemo"]),
        .executable(name: "verk-chaos", targets: ["VerkChaos"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        // Health and metrics over HTTP (NIOHTTP1: far quicker to build than a web framework), Prometheus text
        // from swift-metrics, and spans for push and perform (a no-op unless the app bootstraps a tracer).
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-distributed-tracing.git", from: "1.7.3"),
        .package(url: "https://github.com/x-sheep/swift-property-based.git", from: "2.0.1"),
    ],
    targets: [
        // hiredis 0.14 from Debian's libhiredis-dev (RESP2).
        .systemLibrary(
            name: "CVerkHiredis",
            path: "Sources/CVerkHiredis",
            pkgConfig: "hiredis",
            providers: [.apt(["libhiredis-dev"])]
        ),
        // prctl, pidfd_open and posix_spawn's closefrom are variadic or _GNU_SOURCE-only: Swift needs a shim.
        .target(name: "CVerkSystem", path: "Sources/CVerkSystem"),
        // What every role and every client agrees on: Redis access, key layout, job format, frames, policies.
        .target(
            name: "VerkShared",
            dependencies: ["CVerkHiredis", "CVerkSystem", .product(name: "Logging", package: "swift-log"),
                           .product(name: "CoreMetrics", package: "swift-metrics"),
                           .product(name: "Tracing", package: "swift-distributed-tracing")],
            path: "Sources/Shared"
        ),
        // The worker role: worker protocol, registry, the child's job pool.
        .target(
            name: "VerkWorker",
            dependencies: ["VerkShared", "CVerkSystem", .product(name: "Logging", package: "swift-log"),
                           .product(name: "Tracing", package: "swift-distributed-tracing")],
            path: "Sources/WorkerProcess"
        ),
        // The supervisor role: owns Redis, fetches, spawns and watches one child per queue.
        .target(
            name: "VerkSupervisor",
            dependencies: ["VerkShared", "CVerkSystem", .product(name: "Logging", package: "swift-log"),
                           .product(name: "CoreMetrics", package: "swift-metrics"),
                           .product(name: "Prometheus", package: "swift-prometheus"),
                           .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
                           .product(name: "NIOHTTP1", package: "swift-nio")],
            path: "Sources/Supervisor"
        ),
        // Umbrella: `import Verk` gives the entry point, workers and the client.
        .target(
            name: "Verk",
            dependencies: ["VerkShared", "VerkWorker", "VerkSupervisor"],
            path: "Sources/Verk"
        ),
        // Test modes for an app's workers: inline (run as enqueued) and fake (collect, then drain).
        .target(
            name: "VerkTesting",
            dependencies: ["VerkShared", "VerkWorker", .product(name: "Logging", package: "swift-log")],
            path: "Sources/VerkTesting"
        ),
        .executableTarget(
            name: "VerkCLI",
            dependencies: ["VerkShared", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            path: "Sources/VerkCLI"
        ),
        .executableTarget(
            name: "VerkDemo",
            dependencies: ["Verk", .product(name: "ArgumentParser", package: "swift-argument-parser"),
                           .product(name: "Logging", package: "swift-log")],
            path: "examples/Demo"
        ),
        // scripts/chaos: verk-demo nodes, Redis and a network partition under a seeded schedule of faults.
        .executableTarget(
            name: "VerkChaos",
            dependencies: ["VerkShared", "CVerkSystem", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            path: "Sources/VerkChaos"
        ),
        // What the frame decoder, the JSON parser and the configuration parser promise on any input, checked
        // by the libFuzzer targets below and, over the committed corpus, by VerkDecoderTests.
        .target(name: "VerkFuzzInvariants", dependencies: ["VerkShared"], path: "Fuzz/Invariants"),
        // libFuzzer entry points (`scripts/fuzz` builds them with --sanitize=fuzzer into .build-fuzz). A normal
        // build compiles them into executables that do nothing, so they cannot rot.
        .executableTarget(name: "FrameDecoderFuzz", dependencies: ["VerkFuzzInvariants"], path: "Fuzz/FrameDecoderFuzz"),
        .executableTarget(name: "JSONParserFuzz", dependencies: ["VerkFuzzInvariants"], path: "Fuzz/JSONParserFuzz"),
        .executableTarget(name: "ConfigurationFuzz", dependencies: ["VerkFuzzInvariants"], path: "Fuzz/ConfigurationFuzz"),
        .testTarget(
            name: "VerkSharedTests",
            dependencies: ["Verk", "VerkShared", "VerkWorker", "VerkSupervisor", "VerkTesting",
                           .product(name: "InMemoryTracing", package: "swift-distributed-tracing"),
                           .product(name: "Prometheus", package: "swift-prometheus")],
            path: "Tests/VerkSharedTests"
        ),
        .testTarget(
            name: "VerkTestingTests",
            dependencies: ["VerkTesting", "VerkShared", "VerkWorker", .product(name: "Logging", package: "swift-log"),
                           .product(name: "InMemoryLogging", package: "swift-log")],
            path: "Tests/VerkTestingTests"
        ),
        .testTarget(
            name: "VerkIntegrationTests",
            dependencies: ["Verk", "VerkShared", "VerkWorker", "VerkSupervisor"],
            path: "Tests/VerkIntegrationTests"
        ),
        // Property tests of the decoders' round trips, and the fuzz corpus replayed through the fuzz invariants.
        .testTarget(
            name: "VerkDecoderTests",
            dependencies: ["VerkShared", "VerkFuzzInvariants", .product(name: "PropertyBased", package: "swift-property-based")],
            path: "Tests/VerkDecoderTests"
        ),
    ]
)
