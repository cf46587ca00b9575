import Testing
@testable import VerkShared

/// What attacking the decoders found (the fuzz targets, or writing their invariants), one test per finding, as
/// the contract it broke. Each fuzz input is also in Fuzz/Corpus, where the fuzz invariants replay it.
@Suite struct FuzzFindingsTests {
    @Test func aPasswordWithAnUnencodedQuestionMarkIsNeverShown() {
        // The '?' starts the query for the parser, so host, port and query keys were pieces of the password.
        for url in ["redis://:top?secret@h:6379/0", "redis://u:top?secret@h", "unix://:top?secret@/run/redis.sock"] {
            #expect {
                try RedisConfiguration(url: url)
            } throws: { error in
                let text = "\(error)"
                return !text.contains("top") && !text.contains("secret") && text.contains("%3F")
            }
            #expect(!RedisConfiguration.redact(url).contains("top"))
            #expect(!RedisConfiguration.redact(url).contains("secret"))
        }
    }

    @Test func anEmptyQueryParameterIsRefusedNotATrap() {
        #expect(throws: RedisError.self) { try RedisConfiguration(url: "redis://127.0.0.1:6379/0?=") }
        #expect(throws: RedisError.self) { try RedisConfiguration(url: "redis://h?db=1&=2") }
    }

    @Test func aQueueNameWithAFinalNewlineIsRefused() {
        #expect(throws: ConfigurationError.self) { try QueueConfiguration("mail\n").validate() }
        var configuration = VerkConfiguration(redisURL: RedisConfiguration.defaultURL, queues: [], nodeID: "n")
        #expect(throws: ConfigurationError.self) {
            try configuration.apply(environment: ["VERK_QUEUES": "mail\n:5"])
            try configuration.validate()
        }
    }

    @Test(arguments: ["inf", "-inf", "nan", "1e999"])
    func secondsThatAreNotANumberOfSecondsAreRefused(_ text: String) {
        var configuration = VerkConfiguration(redisURL: RedisConfiguration.defaultURL, queues: [QueueConfiguration("default")], nodeID: "n")
        #expect(throws: ConfigurationError.invalid(field: "shutdown_timeout", value: text, reason: "expected seconds (from VERK_SHUTDOWN_TIMEOUT)")) {
            try configuration.apply(environment: ["VERK_SHUTDOWN_TIMEOUT": text])
        }
    }

    @Test func durationsTheSupervisorCannotTurnIntoSecondsAreRefused() {
        // `Int(shutdownTimeout)` trapped at start for 1e300 (from a file, or set in code).
        var configuration = VerkConfiguration(redisURL: RedisConfiguration.defaultURL, queues: [QueueConfiguration("default")], nodeID: "n")
        configuration.shutdownTimeout = 1e300
        #expect(throws: ConfigurationError.self) { try configuration.validate() }
        configuration.shutdownTimeout = 25
        configuration.deadTimeout = .infinity
        #expect(throws: ConfigurationError.self) { try configuration.validate() }
        configuration.deadTimeout = 10 * 365 * 86_400
        #expect(throws: Never.self) { try configuration.validate() }
    }

    @Test func aRetryCountAtIntMaxFailsWithoutTrappingTheSupervisor() throws {
        let job = try Job(parsing: Array(#"{"class":"HardJob","args":[1],"retry":true,"retry_count":9223372036854775807}"#.utf8))
        let outcome = RetryPolicy().outcome(for: job, failure: JobFailure(errorClass: "E", message: "m"), fetchedFrom: "default", now: 1)
        #expect(outcome.destination == .dead)
        #expect(outcome.job.retryCount == .max)
    }

    @Test func anObjectWithManyKeysParsesInLinearTime() throws {
        // Each key used to be placed by a scan of the keys before it: 20,000 keys took 13 s (debug build), and a
        // payload of 100,000 would have held a worker thread or the schedule poller for minutes.
        let text = "{" + (0..<100_000).map { "\"k\($0)\":\($0)" }.joined(separator: ",") + "}"
        let start = ContinuousClock.now
        let value = try JSONParser.parse(text)
        #expect(ContinuousClock.now - start < .seconds(10))
        #expect(value.objectValue?.count == 100_000)
    }

    @Test(arguments: [3, 40])
    func aDuplicateKeyKeepsTheFirstPlaceAndTheLastValue(_ count: Int) throws {
        let members = (0..<count).map { "\"k\($0)\":\($0)" }.joined(separator: ",")
        let object = try #require(try JSONParser.parse("{\(members),\"k0\":\"last\",\"k1\":null}").objectValue)
        #expect(object.keys == (0..<count).map { "k\($0)" })
        #expect(object["k0"] == "last" && object["k1"] == .null && object["k2"] == 2)
    }
}
