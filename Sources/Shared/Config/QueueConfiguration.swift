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

    /// Parses `name` or `name:concurrency` (queue names may themselves hold ':').
    public init(parsing text: String, defaultConcurrency: Int = 10) throws(ConfigurationError) {
        guard !text.isEmpty else { throw .invalid(field: "queues", value: text, reason: "empty queue name") }
        if let colon = text.lastIndex(of: ":") {
            let tail = text[text.index(after: colon)...]
            if let n = Int(tail) {
                self.init(String(text[..<colon]), concurrency: n)
                return
            }
            if tail.isEmpty || tail.allSatisfy({ $0.isNumber || $0 == "-" }) {
                throw .invalid(field: "queues", value: text, reason: "expected NAME:CONCURRENCY, e.g. default:10")
            }
        }
        self.init(text, concurrency: defaultConcurrency)
    }
}
