/// The kinds of fault the run injects (poison jobs are not scheduled: they are mixed into the jobs).
enum FaultKind: String, CaseIterable, Comparable {
    case workerKill = "worker-kill"
    case supervisorKill = "supervisor-kill"
    case redisRestart = "redis-restart"
    case redisStall = "redis-stop"
    case nodeJoinLeave = "node-join-leave"
    case partition = "partition"

    static func < (a: FaultKind, b: FaultKind) -> Bool { allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)! }

    /// How often an extra fault is of this kind, relative to the others.
    var weight: Int {
        switch self {
        case .workerKill: return 4
        case .supervisorKill, .partition: return 2
        case .redisRestart, .redisStall, .nodeJoinLeave: return 1
        }
    }
}

/// One fault as scheduled: its kind, its parameters (drawn from the seed), the pause before it, and
/// whether it must run even past the fault window (every kind, and both variants of the partition and of
/// the leave, run at least once).
struct PlannedFault {
    let kind: FaultKind
    let gapBefore: Double
    /// Partition, stall, outage or membership length in seconds.
    let duration: Double
    /// A partition longer than the lease, cut on which side; a leave by kill -9 rather than SIGTERM.
    let long: Bool
    let side: NetworkPartition.Side
    let byKill: Bool
    /// Picks the target among those present when it runs (a node, a worker process).
    let pick: UInt64
    let required: Bool
}

/// A seeded random schedule: every kind once (partition both shorter and longer than the lease, a
/// leave by SIGTERM and one by kill -9) and extras drawn by weight, enough to fill `window` seconds by
/// estimate, all shuffled together. Extras are skipped once the window is over, and more are drawn if
/// it is not over yet.
enum FaultSchedule {
    static func make(window: Double, random: inout SeededRandom) -> [PlannedFault] {
        var required: [(FaultKind, Bool?)] = FaultKind.allCases.map { ($0, nil) }
        required.removeAll { $0.0 == .partition || $0.0 == .nodeJoinLeave }
        required += [(.partition, false), (.partition, true), (.nodeJoinLeave, false), (.nodeJoinLeave, true)]
        var plan = required.map { make($0.0, variant: $0.1, required: true, random: &random) }
        var estimated = plan.reduce(0) { $0 + $1.gapBefore + estimate($1) }
        for _ in 0..<10_000 where estimated < window {
            let fault = extra(random: &random)
            estimated += fault.gapBefore + estimate(fault)
            plan.append(fault)
        }
        plan.shuffle(using: &random)
        return plan
    }

    /// One more fault of a kind drawn by weight (the run draws these while its window lasts).
    static func extra(random: inout SeededRandom) -> PlannedFault {
        let bag = FaultKind.allCases.flatMap { Array(repeating: $0, count: $0.weight) }
        return make(bag.randomElement(using: &random)!, variant: nil, required: false, random: &random)
    }

    private static func make(_ kind: FaultKind, variant: Bool?, required: Bool, random: inout SeededRandom) -> PlannedFault {
        let long = kind == .partition ? (variant ?? random.chance(0.4)) : false
        let duration: Double
        switch kind {
        case .workerKill, .supervisorKill: duration = 0
        // Outages well under the lease (3 s), reconnect backoff and AOF loading included: longer ones
        // cost every node its lease at once, and every node stops (as designed).
        case .redisRestart: duration = random.uniform(0.2...1.0)
        case .redisStall: duration = random.uniform(0.2...1.2)
        case .nodeJoinLeave: duration = random.uniform(2...6)
        // Short: well under the lease, the node must ride it out. Long: over it (3 s): under the node expiry
        // (6 s) it takes its lapsed lease again; past it, another node takes its jobs over and it stops.
        // The required long one is always past the expiry (and reconnecting), so a takeover happens at least once.
        case .partition: duration = long ? (required ? random.uniform(7.5...9) : random.uniform(3.5...9)) : random.uniform(0.2...1.2)
        }
        let side: NetworkPartition.Side = random.chance(0.5) ? .node : .redis
        let byKill = kind == .nodeJoinLeave ? (variant ?? random.chance(0.5)) : false
        return PlannedFault(kind: kind, gapBefore: random.uniform(0.5...3), duration: duration, long: long, side: side,
                            byKill: byKill, pick: random.next(), required: required)
    }

    /// Roughly how long a fault keeps the driver busy, restarts and recoveries included.
    static func estimate(_ fault: PlannedFault) -> Double {
        switch fault.kind {
        case .workerKill: return 0.2
        case .supervisorKill: return ChaosNode.lease + 1.5
        case .redisRestart: return fault.duration + 1
        case .redisStall: return fault.duration + 0.5
        case .nodeJoinLeave: return fault.duration + 2.5
        case .partition: return fault.long ? fault.duration + 6 : fault.duration + 2.5
        }
    }
}
