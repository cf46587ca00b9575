import ArgumentParser
import Foundation
import VerkShared

/// `--redis-url` and `--namespace`, accepted by every command.
struct GlobalOptions: ParsableArguments {
    @Option(name: .customLong("redis-url"), help: "Redis URL (default: $VERK_REDIS_URL, else redis://127.0.0.1:6379/0).")
    var redisURL: String?

    @Option(help: "Key prefix, as with Sidekiq's redis-namespace (e.g. 'myapp' gives myapp:queue:default).")
    var namespace: String?

    var keys: KeySpace { KeySpace(namespace: namespace) }

    func connect() throws -> RedisConnection {
        try RedisConnection(configuration: redisConfiguration(), name: "verk-cli")
    }

    /// A client on the same Redis, for commands that push jobs (the one push path).
    func client() throws -> VerkClient {
        try VerkClient(configuration: redisConfiguration(), namespace: namespace, timestamps: timestamps())
    }

    /// `$VERK_TIMESTAMP_FORMAT`, as the nodes read it, so jobs the CLI writes match theirs.
    func timestamps() throws -> TimestampFormat {
        guard let text = ProcessInfo.processInfo.environment["VERK_TIMESTAMP_FORMAT"], !text.isEmpty else { return .seconds }
        guard TimestampFormat.configurable.contains(text.lowercased()), let format = TimestampFormat(rawValue: text.lowercased()) else {
            // Verk's whole seconds are chosen per job, never configured.
            throw CLIError(description: "invalid VERK_TIMESTAMP_FORMAT '\(text)': use " + TimestampFormat.configurable.joined(separator: " or "))
        }
        return format
    }

    private func redisConfiguration() throws -> RedisConfiguration {
        let url = redisURL ?? ProcessInfo.processInfo.environment["VERK_REDIS_URL"] ?? RedisConfiguration.defaultURL
        var configuration = try RedisConfiguration(url: url)
        // An operator's command should fail fast, not sit in the reconnect loop.
        configuration.reconnectTimeout = 0
        configuration.connectTimeout = 3
        return configuration
    }
}

/// A user-input error with a precise message.
struct CLIError: Error, CustomStringConvertible {
    let description: String
}

func printJSON(_ value: JSONValue) { print(JSONWriter.string(value)) }

func formatTime(_ epoch: Double) -> String {
    let formatter = ISO8601DateFormatter()
    return formatter.string(from: Date(timeIntervalSince1970: epoch))
}
