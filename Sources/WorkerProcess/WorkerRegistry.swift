import VerkShared

/// The registered worker types, by class name. Only these ever run.
package struct WorkerRegistry: Sendable {
    package struct Entry: Sendable {
        package let className: String
        package let options: WorkerOptions
        package let retryAt: @Sendable (_ failedAt: Double, _ retryCount: Int) -> Double?
        let run: @Sendable (Job, JobContext) throws -> Void
    }

    private var entries: [String: Entry] = [:]

    package init(_ workers: [any Worker.Type]) throws(RegistryError) {
        for worker in workers { try register(worker) }
    }

    package mutating func register(_ worker: any Worker.Type) throws(RegistryError) {
        let entry = Self.entry(for: worker)
        guard !entry.className.isEmpty else { throw .emptyName(String(describing: worker)) }
        guard entries[entry.className] == nil else { throw .duplicate(entry.className) }
        entries[entry.className] = entry
    }

    package func entry(_ className: String) -> Entry? { entries[className] }
    package var classNames: [String] { entries.keys.sorted() }

    /// The workers' own retry schedules, for the supervisor (which does not know the worker types).
    package var retrySchedules: RetrySchedules { RetrySchedules(entries.mapValues(\.retryAt)) }

    private static func entry<W: Worker>(for worker: W.Type) -> Entry {
        // Once: the default `className` is `String(describing:)`, a reflection costly enough per job to show.
        let className = W.className
        return Entry(className: className, options: W.options, retryAt: { W.retryAt(failedAt: $0, retryCount: $1) }) { job, context in
            let args = try WorkerArguments.decode(W.Arguments.self, from: job.args, className: className)
            try W().perform(args, context: context)
        }
    }
}

public enum RegistryError: Error, Sendable, CustomStringConvertible {
    case duplicate(String)
    case emptyName(String)

    public var description: String {
        switch self {
        case .duplicate(let name): return "two workers are registered with the class name '\(name)'; class names must be unique"
        case .emptyName(let type): return "worker \(type) has an empty className"
        }
    }
}
