/// SplitMix64: the run's only source of randomness, so a seed replays the same schedule, the same job
/// sizes and the same targets (the timing of the system under test still varies from run to run).
struct SeededRandom: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A generator of its own for one part of the run (the schedule, the jobs), so adding a draw in one
    /// part does not change what the others draw.
    mutating func fork() -> SeededRandom { SeededRandom(seed: next()) }

    mutating func uniform(_ range: ClosedRange<Double>) -> Double { Double.random(in: range, using: &self) }
    mutating func chance(_ p: Double) -> Bool { Double.random(in: 0..<1, using: &self) < p }
}
