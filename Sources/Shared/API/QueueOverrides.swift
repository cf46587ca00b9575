/// What a node was told at runtime about its queues (by `QueueControl`): queues added with a concurrency
/// and queues removed, fleet-wide entries overlaid by the node's own. A pure value; the watcher applies it
/// to the configured queues.
public struct QueueOverrides: Sendable, Equatable {
    /// Queue name → concurrency.
    public var added: [String: Int]
    public var removed: Set<String>
    /// One line per malformed entry found in Redis (a hand-edited hash) and skipped, saying which key,
    /// which field and what would be right. Not part of equality: two values with the same instructions
    /// are equal, whatever junk sits beside them.
    public var problems: [String]

    public init(added: [String: Int] = [:], removed: Set<String> = [], problems: [String] = []) {
        self.added = added
        self.removed = removed
        self.problems = problems
    }

    public static func == (lhs: QueueOverrides, rhs: QueueOverrides) -> Bool {
        lhs.added == rhs.added && lhs.removed == rhs.removed
    }

    /// The queues a node runs: its configured queues, minus removed, plus added (an added queue that is
    /// also configured takes the added concurrency and keeps its other settings). Keeps configured order,
    /// added ones after, sorted by name.
    public func apply(to configured: [QueueConfiguration]) -> [QueueConfiguration] {
        var result: [QueueConfiguration] = []
        for var queue in configured {
            if let concurrency = added[queue.name] {
                queue.concurrency = concurrency
                result.append(queue)
            } else if !removed.contains(queue.name) {
                result.append(queue)
            }
        }
        let configuredNames = Set(configured.map(\.name))
        for (name, concurrency) in added.sorted(by: { $0.key < $1.key }) where !configuredNames.contains(name) {
            result.append(QueueConfiguration(name, concurrency: concurrency))
        }
        return result
    }
}

extension QueueOverrides {
    /// Overlays override hashes in order (fleet-wide first, then the node's own): a later entry for a queue
    /// replaces an earlier one. A malformed entry is skipped and named in `problems`, so the entry before
    /// it (if any) still applies. `hashes` pairs each key name (for the message) with its field/value pairs.
    static func overlay(_ hashes: [(key: String, entries: [(field: String, value: String)])]) -> QueueOverrides {
        var merged: [String: QueueOverride] = [:]
        var problems: [String] = []
        for hash in hashes {
            for entry in hash.entries.sorted(by: { $0.field < $1.field }) {
                do {
                    merged[entry.field] = try QueueOverride.parse(queue: entry.field, value: entry.value)
                } catch {
                    let reason: String
                    if case .invalid(_, _, let why) = error { reason = why } else { reason = "\(error)" }
                    problems.append("\(hash.key): skipped field '\(entry.field.prefix(60))' = '\(entry.value.prefix(60))': \(reason); "
                        + "set it again with `verk queue add` or `verk queue remove`, or delete the field")
                }
            }
        }
        var overrides = QueueOverrides(problems: problems)
        for (queue, entry) in merged {
            switch entry {
            case .add(let concurrency): overrides.added[queue] = concurrency
            case .removed: overrides.removed.insert(queue)
            }
        }
        return overrides
    }
}
