import Foundation
import VerkShared

/// What the configuration parsers promise on any text, read as a JSON file, as `VERK_*` variables
/// (`NAME=VALUE` lines), as queue lists and as Redis URLs:
/// - they never trap; a refusal is a `ConfigurationError` (or `RedisError`) whose message is not empty and
///   names where the value came from;
/// - a configuration `validate()` accepts can run: queue names hold only the characters Sidekiq's Web
///   shows, concurrencies are in range, every duration is finite and `shutdown_timeout` converts to the
///   whole seconds the supervisor logs; its Redis URL parses;
/// - applying the same file or environment twice changes nothing more than applying it once;
/// - a queue accepted from `NAME:CONCURRENCY` reads back the same when written that way again;
/// - a password is never shown: `redact` keeps a URL's endpoint, user and database and masks the rest (all of it
///   up to an '@' in the query, which it cannot tell from a '?' in the user info), and no message about a URL
///   repeats a password written in it, even one that does not parse.
public enum ConfigurationInvariants {
    public static func check(_ bytes: [UInt8]) throws(InvariantViolation) {
        let text = String(decoding: bytes, as: UTF8.self)
        // `redis_url_file` reads whatever path it names: fuzzed names such as /dev/zero would read forever.
        // FileManager reads that file; nothing of ours parses it, so such inputs are skipped.
        if !text.lowercased().contains("url_file") {
            try checkFile(bytes)
            try checkEnvironment(text)
        }
        for item in ([Substring(text)] + text.split(separator: ",", omittingEmptySubsequences: false)).prefix(16) {
            try checkQueue(String(item))
        }
        // The whole text, then its first lines: each URL is parsed about ten times, and speed finds more.
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        for (i, line) in ([Substring(text)] + (lines.count > 1 ? lines.prefix(4) : [])).enumerated() {
            try checkRedisURL(String(line), withSecret: i < 2)
        }
    }

    /// A default configuration, built once: `VerkConfiguration()` looks up the host name.
    static let base: VerkConfiguration = {
        var configuration = VerkConfiguration()
        configuration.nodeID = "fuzz-node"
        return configuration
    }()

    static let path = NSTemporaryDirectory() + "/verk-fuzz-configuration-\(getpid()).json"

    static func checkFile(_ bytes: [UInt8]) throws(InvariantViolation) {
        guard FileManager.default.createFile(atPath: path, contents: Data(bytes)) else {
            throw InvariantViolation("cannot write \(path)")
        }
        var configuration = base
        do {
            try configuration.apply(file: path)
        } catch {
            try checkRefusal(error, source: path)
            return
        }
        try checkUsable(configuration, source: path) { (configuration: inout VerkConfiguration) throws(ConfigurationError) in
            try configuration.apply(file: path)
        }
    }

    /// `NAME=VALUE` lines; a name without `VERK_` gets it, so the fuzzer reaches fields sooner; `\n` in a
    /// value is a newline, which real environments allow.
    static func checkEnvironment(_ text: String) throws(InvariantViolation) {
        var environment: [String: String] = [:]
        for line in text.split(separator: "\n") {
            guard let equals = line.firstIndex(of: "=") else { continue }
            var name = String(line[..<equals])
            if !name.hasPrefix("VERK_") { name = "VERK_" + name }
            environment[name] = line[line.index(after: equals)...].replacingOccurrences(of: "\\n", with: "\n")
        }
        var configuration = base
        do {
            try configuration.apply(environment: environment)
        } catch {
            try checkRefusal(error, source: "VERK_")
            return
        }
        try checkUsable(configuration, source: "the environment") { (configuration: inout VerkConfiguration) throws(ConfigurationError) in
            try configuration.apply(environment: environment)
        }
    }

    static func checkRefusal(_ error: ConfigurationError, source: String) throws(InvariantViolation) {
        let message = error.description
        try ensure(!message.isEmpty, "a ConfigurationError with an empty message")
        switch error {
        case .invalid(let field, _, let reason):
            try ensure(!field.isEmpty && !reason.isEmpty, "a refusal without a field or a reason: \(message)")
            try ensure(reason.contains("(from \(source)"), "a refusal that does not name its source \(source): \(message)")
        case .unknownField(_, let from), .invalidFile(let from, _), .unreadableFile(let from):
            try ensure(from.hasPrefix(source), "a refusal that does not name its source \(source): \(message)")
        }
    }

    /// What `validate()` accepts must be usable as is, and applying the same source again is a no-op.
    static func checkUsable(_ configuration: VerkConfiguration, source: String,
                            reapply: (inout VerkConfiguration) throws(ConfigurationError) -> Void) throws(InvariantViolation) {
        do { try configuration.validate() } catch {
            try ensure(!error.description.isEmpty, "validate() threw an empty message")
            return
        }
        var names = Set<String>()
        for queue in configuration.queues {
            try ensure(isQueueName(queue.name), "validate() accepted the queue name \(queue.name.debugDescription) from \(source)")
            try ensure((1...1000).contains(queue.concurrency), "validate() accepted concurrency \(queue.concurrency) from \(source)")
            try ensure(names.insert(queue.name).inserted, "validate() accepted the queue \(queue.name) twice from \(source)")
        }
        let durations = [configuration.deadTimeout, configuration.pollInterval, configuration.shutdownTimeout,
                         configuration.heartbeatInterval, configuration.nodeExpiry]
        try ensure(durations.allSatisfy(\.isFinite), "validate() accepted a duration that is not finite: \(durations) from \(source)")
        // The supervisor logs `Int(configuration.shutdownTimeout)`: it must convert without trapping.
        try ensure(Int(exactly: configuration.shutdownTimeout.rounded(.down)) != nil,
                   "validate() accepted shutdown_timeout \(configuration.shutdownTimeout), which is not whole seconds an Int holds")
        try ensure((try? RedisConfiguration(url: configuration.redisURL)) != nil, "validate() accepted a Redis URL that does not parse")

        var again = configuration
        do { try reapply(&again) } catch { throw InvariantViolation("applying \(source) a second time fails: \(error)") }
        try ensure(again == configuration, "applying \(source) a second time changes the configuration")
    }

    static let queueNameCharacters = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_:.-".unicodeScalars)

    static func isQueueName(_ name: String) -> Bool {
        !name.isEmpty && name.unicodeScalars.allSatisfy(queueNameCharacters.contains)
    }

    static func checkQueue(_ text: String) throws(InvariantViolation) {
        let queue: QueueConfiguration
        do { queue = try QueueConfiguration(parsing: text) } catch {
            try ensure(!error.description.isEmpty, "QueueConfiguration(parsing:) threw an empty message")
            return
        }
        guard (try? queue.validate()) != nil else { return }
        try ensure(isQueueName(queue.name), "validate() accepted the queue name \(queue.name.debugDescription)")
        let written = "\(queue.name):\(queue.concurrency)"
        try ensure((try? QueueConfiguration(parsing: written)) == queue, "queue \(written) does not read back as \(queue)")
    }

    /// Text no URL part holds by chance: where it is written as a password, no message may show it.
    static let secret = "Zq9xSecretPw"

    static func checkRedisURL(_ url: String, withSecret: Bool) throws(InvariantViolation) {
        let parsed: RedisConfiguration?
        do { parsed = try RedisConfiguration(url: url) } catch {
            try ensure(!error.description.isEmpty, "RedisConfiguration(url:) threw an empty message")
            parsed = nil
        }
        // With an '@' in the query (a `password=` value may hold one), redact() masks everything up to it, by design.
        let queryHoldsAt = url.firstIndex(of: "?").map { url[$0...].contains("@") } ?? false
        if let parsed, !queryHoldsAt {
            // Redaction keeps what messages need and masks the password.
            let redacted = RedisConfiguration.redact(url)
            guard let shown = try? RedisConfiguration(url: redacted) else {
                throw InvariantViolation("redact(\(url.debugDescription)) = \(redacted.debugDescription) no longer parses")
            }
            try ensure(shown.endpoint == parsed.endpoint && shown.database == parsed.database && shown.username == parsed.username,
                       "redact(\(url.debugDescription)) = \(redacted.debugDescription) changes the endpoint, database or user")
            if let password = parsed.password, !password.isEmpty {
                try ensure(shown.password == "***", "redact(\(url.debugDescription)) = \(redacted.debugDescription) does not mask the password")
            }
        }

        // The same text around a password: before or after it, as long as the text cannot make the password
        // something else (a '@' after it, or a `password=` parameter, can turn it into a host or port).
        guard withSecret, !url.lowercased().contains("password") else { return }
        var urls: [String] = []
        if url.contains("@") { urls += ["redis://:\(secret)\(url)", "unix://user:\(secret)\(url)"] }
        if !url.contains("@") { urls += ["redis://:\(url)\(secret)@127.0.0.1:6379/0", "unix://user:\(url)\(secret)@/run/redis.sock"] }
        for withSecret in urls {
            var messages = [RedisConfiguration.redact(withSecret)]
            do { messages.append(try RedisConfiguration(url: withSecret).description) } catch { messages.append(error.description) }
            var configuration = base
            configuration.redisURL = withSecret
            do { try configuration.validate() } catch { messages.append(error.description) }
            for message in messages {
                try ensure(!message.contains(secret), "the password of \(withSecret.debugDescription) is shown: \(message)")
            }
        }
    }
}
