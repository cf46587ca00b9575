import Testing
@testable import VerkShared

@Suite struct RedisConfigurationTests {
    @Test func tcpURLWithACLUserAndDatabase() throws {
        let c = try RedisConfiguration(url: "redis://alice:s%40cret@redis.local:6380/3")
        #expect(c.endpoint == .tcp(host: "redis.local", port: 6380))
        #expect(c.username == "alice")
        #expect(c.password == "s@cret")
        #expect(c.database == 3)
        #expect(!c.description.contains("cret"))
    }

    @Test func defaultsAndPasswordOnlyForms() throws {
        let a = try RedisConfiguration(url: "redis://localhost")
        #expect(a.endpoint == .tcp(host: "localhost", port: 6379) && a.database == 0 && a.password == nil)
        let b = try RedisConfiguration(url: "redis://:pw@127.0.0.1:7000/0")
        #expect(b.username == nil && b.password == "pw")
        let c = try RedisConfiguration(url: "redis://[::1]:7001/2")
        #expect(c.endpoint == .tcp(host: "::1", port: 7001) && c.database == 2)
    }

    @Test func unixSocketForm() throws {
        let c = try RedisConfiguration(url: "unix://:pw@/run/redis/redis.sock?db=4")
        #expect(c.endpoint == .unix(path: "/run/redis/redis.sock"))
        #expect(c.database == 4 && c.password == "pw")
    }

    @Test func tlsIsRefusedClearlyWithoutThePassword() {
        #expect {
            try RedisConfiguration(url: "rediss://user:topsecret@host:6380/0")
        } throws: { error in
            let text = "\(error)"
            return text.contains("TLS") && text.contains("hiredis 0.14") && !text.contains("topsecret")
        }
    }

    @Test(arguments: ["localhost:6379", "http://x", "redis://h:99999/0", "redis://h:1/x", "unix://relative.sock",
                      "redis://h:1/0?timeout=3", "redis://u:topsecret@h:abc/0"])
    func badURLsGiveAPreciseErrorWithoutSecrets(_ url: String) {
        #expect {
            try RedisConfiguration(url: url)
        } throws: { error in
            guard let e = error as? RedisError, case .invalidURL = e else { return false }
            return !"\(e)".contains("topsecret")
        }
    }

    @Test func redactHidesPasswordsInEveryPlace() {
        #expect(RedisConfiguration.redact("redis://u:pw@h:1/0") == "redis://u:***@h:1/0")
        #expect(RedisConfiguration.redact("redis://:pw@h:1/0") == "redis://:***@h:1/0")
        #expect(RedisConfiguration.redact("unix:///s.sock?password=pw&db=1") == "unix:///s.sock?password=***&db=1")
    }
}
