import Foundation
import Testing
@testable import VerkShared

/// The field table (`ConfigurationField.all`) is what files, the environment and the README read: every
/// field must be settable both ways, refuse bad values precisely, and be documented as the table says.
@Suite struct ConfigurationFieldTests {
    /// A value for each field, as a variable and as JSON in a file, and what it must set.
    struct Sample: Sendable {
        var text: String
        var json: String
        var holds: @Sendable (VerkConfiguration) -> Bool

        init(_ text: String, json: String? = nil, _ holds: @escaping @Sendable (VerkConfiguration) -> Bool) {
            self.text = text
            self.json = json ?? "\"\(text)\""
            self.holds = holds
        }
    }

    static let samples: [String: Sample] = [
        "redis_url": Sample("redis://10.0.0.5:6380/2") { $0.redisURL == "redis://10.0.0.5:6380/2" },
        "redis_url_file": Sample(ConfigurationFieldTests.secretFile) { $0.redisURL == "redis://:s3cret@10.0.0.9:6379/1" },
        "namespace": Sample("app") { $0.namespace == "app" },
        "queues": Sample("mail:2, low", json: #"["mail:2", "low"]"#) {
            $0.queues == [QueueConfiguration("mail", concurrency: 2), QueueConfiguration("low", concurrency: 10)]
        },
        "node_id": Sample("pod-7") { $0.nodeID == "pod-7" },
        "max_retries": Sample("7", json: "7") { $0.maxRetries == 7 },
        "max_dead_jobs": Sample("50", json: "50") { $0.maxDeadJobs == 50 },
        "dead_timeout": Sample("3600", json: "3600") { $0.deadTimeout == 3600 },
        "poll_interval": Sample("0.5", json: "0.5") { $0.pollInterval == 0.5 },
        "shutdown_timeout": Sample("8") { $0.shutdownTimeout == 8 },  // as a JSON string: a file may quote numbers
        "prefetch": Sample("0", json: "0") { $0.prefetch == 0 },
        "heartbeat_interval": Sample("2", json: "2") { $0.heartbeatInterval == 2 },
        "node_expiry": Sample("45", json: "45") { $0.nodeExpiry == 45 },
        "max_process_kills": Sample("5", json: "5") { $0.maxProcessKills == 5 },
        "max_job_size": Sample("4096", json: "4096") { $0.maxJobSize == 4096 },
        "worker_memory_limit": Sample("256", json: "256") { $0.workerMemoryLimitMB == 256 },
        "log_level": Sample("DEBUG") { $0.logLevel == "debug" },
        "job_log_level": Sample("off") { $0.jobLogLevel == "off" },
        "timestamp_format": Sample("Milliseconds") { $0.timestampFormat == "milliseconds" && $0.retryPolicy.timestamps == .milliseconds },
        "http_port": Sample("9394", json: "9394") { $0.httpPort == 9394 },
    ]

    /// A value each field refuses as it is read, and a word of the reason. Text fields (redis_url,
    /// namespace, node_id) take any text; `validate()` judges them.
    static let refused: [String: (value: String, reason: String)] = [
        "queues": ("a:", "NAME:CONCURRENCY"),
        "redis_url_file": ("/nonexistent/redis-url", "cannot read the file"),
        "max_retries": ("seven", "whole number"),
        "max_dead_jobs": ("1e3", "whole number"),
        "dead_timeout": ("soon", "seconds"),
        "poll_interval": ("fast", "seconds"),
        "shutdown_timeout": ("abc", "seconds"),
        "prefetch": ("2.5", "whole number"),
        "heartbeat_interval": ("5s", "seconds"),
        "node_expiry": ("soon", "seconds"),
        "max_process_kills": ("three", "whole number"),
        "max_job_size": ("64MB", "whole number"),
        "worker_memory_limit": ("1G", "whole number"),
        "log_level": ("loud", "use trace, debug, info, notice, warning, error or critical"),
        "job_log_level": ("loud", "use trace, debug, info, notice, warning, error, critical or off"),
        "timestamp_format": ("wholeSeconds", "use seconds or milliseconds"),
        "http_port": ("http", "whole number"),
    ]

    static let keys = ConfigurationField.all.map(\.key)

    /// A mounted Secret holding a Redis URL (with the trailing newline such files have).
    static let secretFile: String = {
        let path = NSTemporaryDirectory() + "verk-secret-redis-url"
        FileManager.default.createFile(atPath: path, contents: Data("redis://:s3cret@10.0.0.9:6379/1\n".utf8))
        return path
    }()

    func write(_ text: String) throws -> String {
        let path = NSTemporaryDirectory() + "verk-fields-" + JobID.generate().prefix(8) + ".json"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func field(_ key: String) throws -> ConfigurationField { try #require(ConfigurationField.named(key)) }

    @Test func everyFieldHasOneNameEverywhereAndATestValue() {
        let names = ConfigurationField.all.flatMap(\.names)
        #expect(names.count == Set(names).count, "a name belongs to one field")
        #expect(Set(Self.samples.keys) == Set(Self.keys), "a new field needs a sample here")
        let textFields = Set(ConfigurationField.all.filter { $0.valueKind == "text" }.map(\.key))
        #expect(Set(Self.refused.keys) == Set(Self.keys).subtracting(textFields), "a new field needs a refused value here")
    }

    @Test(arguments: keys) func everyFieldIsSetFromAFile(_ key: String) throws {
        let sample = try #require(Self.samples[key])
        #expect(!sample.holds(VerkConfiguration()), "the sample must differ from the default")
        let path = try write(#"{"\#(key)": \#(sample.json)}"#)
        defer { unlink(path) }
        var configuration = VerkConfiguration()
        try configuration.apply(file: path)
        #expect(sample.holds(configuration))
    }

    @Test(arguments: keys) func everyFieldIsSetFromItsVariable(_ key: String) throws {
        let sample = try #require(Self.samples[key])
        var configuration = VerkConfiguration()
        try configuration.apply(environment: [try field(key).environmentVariable: sample.text])
        #expect(sample.holds(configuration))
        let once = configuration
        try configuration.apply(environment: [try field(key).environmentVariable: sample.text])
        #expect(configuration == once, "Verk.main applies the environment again: that must change nothing")
    }

    @Test(arguments: refused.keys.sorted()) func anInvalidValueNamesTheFieldTheValueAndTheSource(_ key: String) throws {
        let (value, reason) = try #require(Self.refused[key])
        let variable = try field(key).environmentVariable
        #expect {
            var configuration = VerkConfiguration()
            try configuration.apply(environment: [variable: value])
        } throws: { error in
            let message = "\(error)"
            return message.contains(key) && message.contains("'\(value)'") && message.contains(reason)
                && message.contains("(from \(variable))")
        }
        // A file writes queues as a list: a bare string there is refused for its shape, not its content.
        let path = try write(key == "queues" ? #"{"queues": ["\#(value)"]}"# : #"{"\#(key)": "\#(value)"}"#)
        defer { unlink(path) }
        #expect {
            var configuration = VerkConfiguration()
            try configuration.apply(file: path)
        } throws: { error in
            let message = "\(error)"
            return message.contains(key) && message.contains("'\(value)'") && message.contains(reason)
                && message.contains("(from \(path))")
        }
    }

    /// The text after a queue's last ':' is its concurrency: a typo there is refused, not taken as part of
    /// the name (`default:x` was a queue named "default:x" with concurrency 10).
    @Test func aQueueWhoseConcurrencyIsNotANumberIsRefused() throws {
        for text in ["default:x", "default:", "a:b", "mail:5x"] {
            #expect {
                var configuration = VerkConfiguration()
                try configuration.apply(environment: ["VERK_QUEUES": "low:2,\(text)"])
            } throws: { error in
                let message = "\(error)"
                return message.contains("queues = '\(text)'") && message.contains("expected NAME:CONCURRENCY")
                    && message.contains("(from VERK_QUEUES)") && !message.contains("\n")
            }
        }
        var configuration = VerkConfiguration()
        try configuration.apply(environment: ["VERK_QUEUES": "mail, low:3, a:b:2"])
        #expect(configuration.queues == [QueueConfiguration("mail"), QueueConfiguration("low", concurrency: 3),
                                         QueueConfiguration("a:b", concurrency: 2)])
    }

    @Test func deadMaxJobsIsExqsNameForMaxDeadJobs() throws {
        let path = try write(#"{"dead_max_jobs": 50}"#)
        defer { unlink(path) }
        var configuration = VerkConfiguration()
        try configuration.apply(file: path)
        #expect(configuration.maxDeadJobs == 50)
        try configuration.apply(environment: ["VERK_DEAD_MAX_JOBS": "60"])
        #expect(configuration.maxDeadJobs == 60)
        try configuration.apply(environment: ["VERK_DEAD_MAX_JOBS": "70", "VERK_MAX_DEAD_JOBS": "80"])
        #expect(configuration.maxDeadJobs == 80, "the field's own name wins over its alias, every run")
        #expect(try field("max_dead_jobs").environmentVariables == ["VERK_MAX_DEAD_JOBS", "VERK_DEAD_MAX_JOBS"])
        #expect {
            try configuration.apply(environment: ["VERK_DEAD_MAX_JOBS": "many"])
        } throws: { "\($0)".contains("dead_max_jobs = 'many'") && "\($0)".contains("VERK_DEAD_MAX_JOBS") }
    }

    @Test func jobLogLevelIsInfoByDefaultTakesOffAndRejectsLoud() throws {
        var configuration = VerkConfiguration()
        #expect(configuration.jobLogLevel == "info")
        try configuration.apply(environment: ["VERK_JOB_LOG_LEVEL": "Warning"])
        #expect(configuration.jobLogLevel == "warning")
        try configuration.validate()
        #expect {
            try configuration.apply(environment: ["VERK_JOB_LOG_LEVEL": "loud"])
        } throws: { "\($0)" == "invalid configuration job_log_level = 'loud': use trace, debug, info, notice, warning, error, critical or off (from VERK_JOB_LOG_LEVEL)" }
        configuration.jobLogLevel = "loud"  // set in code: validate() is the check
        #expect(throws: ConfigurationError.invalid(field: "job_log_level", value: "loud",
                                                   reason: "use trace, debug, info, notice, warning, error, critical or off")) {
            try configuration.validate()
        }
        configuration.jobLogLevel = "off"
        try configuration.validate()
        configuration.logLevel = "off"  // the node's own log cannot be switched off
        #expect { try configuration.validate() } throws: { "\($0)".contains("log_level = 'off'") }
    }

    /// A default given as a value must be the real default (one given in words is worked out at run time).
    @Test func everyDefaultGivenAsAValueIsTheRealDefault() throws {
        for field in ConfigurationField.all {
            guard case .value(let text) = field.defaultValue else { continue }
            var configuration = VerkConfiguration()
            try configuration.apply(environment: [field.environmentVariable: text])
            #expect(configuration == VerkConfiguration(), "\(field.key)'s default is documented as \(text)")
        }
    }

    /// The README's Configuration table is the field table, row for row.
    @Test func theReadmeListsEveryFieldAsTheTableDoes() throws {
        let readme = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../README.md")
        let text = try String(contentsOf: readme, encoding: .utf8)
        let section = try #require(text.components(separatedBy: "\n## Configuration\n").dropFirst().first?
            .components(separatedBy: "\n## ").first)
        let rows = section.split(separator: "\n").filter { $0.hasPrefix("| `") }.map(String.init)
        let expected = ConfigurationField.all.map { field in
            let defaultText = switch field.defaultValue {
            case .value(let text): "`\(text)`"
            case .words(let text): text
            }
            return "| \(field.names.map { "`\($0)`" }.joined(separator: " / ")) | "
                + "\(field.environmentVariables.map { "`\($0)`" }.joined(separator: " / ")) | \(defaultText) | \(field.summary) |"
        }
        #expect(rows == expected, "README.md's Configuration table should read:\n\(expected.joined(separator: "\n"))")
    }
}
