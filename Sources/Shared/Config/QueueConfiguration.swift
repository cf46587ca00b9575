/// A queue this node serves, with how many jobs run at once in its worker process.
public struct QueueConfiguration: Sendable, Equatable {
    public var name: String
    public var concurrency: Int
    /// Resident memory (MB) above which the queue's worker process is drained and replaced; nil uses
    /// the node's `workerMemoryLimitMB`.
    public var memoryLimitMB: Int?

    public init(_ name: String, concurrency: Int = 10, memoryLimitMB: Int? = nil) {
        self.name = name
        self.concurrency = concurrency
        self.memoryLimitMB = memoryLimitMB
    }

    /// Refuses a name Sidekiq's Web cannot show or a concurrency out of range, with the same messages for
    /// the configuration, `verk queue add` and the runtime API.
    public func validate() throws(ConfigurationError) {
        // Every character is checked, the last one too: a trailing newline ("mail\n") is refused.
        guard !name.isEmpty, name.unicodeScalars.allSatisfy(Self.isNameCharacter) else {
            throw .invalid(field: "queues", value: name, reason: "a queue name may only hold letters, digits and _ : . - (as Sidekiq's Web requires)")
        }
        guard (1...1000).contains(concurrency) else {
            throw .invalid(field: "queues", value: "\(name):\(concurrency)", reason: "concurrency must be between 1 and 1000")
        }
    }

    /// What `[A-Za-z0-9_:.-]` matches.
    private static func isNameCharacter(_ c: Unicode.Scalar) -> Bool {
        ("a"..."z").contains(c) || ("A"..."Z").contains(c) || ("0"..."9").contains(c) || "_:.-".unicodeScalars.contains(c)
    }

    /// Parses `name` or `name:concurrency`. Text after the last ':' is the concurrency and must be a whole
    /// number: `default:x` is refused rather than read as a queue named `default:x`, so a name that itself
    /// holds ':' is written with its concurrency (`a:b:10`).
    public init(parsing text: String, defaultConcurrency: Int = 10) throws(ConfigurationError) {
        guard !text.isEmpty else { throw .invalid(field: "queues", value: text, reason: "empty queue name") }
        guard let colon = text.lastIndex(of: ":") else {
            self.init(text, concurrency: defaultConcurrency)
            return
        }
        let tail = text[text.index(after: colon)...]
        guard let n = Int(tail) else {
            let what = tail.isEmpty ? "the concurrency is missing" : "'\(tail)' is not a whole number"
            throw .invalid(field: "queues", value: text, reason:
                "expected NAME:CONCURRENCY, e.g. default:10 (\(what); a name holding ':' is written with its concurrency, e.g. a:b:10)")
        }
        self.init(String(text[..<colon]), concurrency: n)
    }
}
