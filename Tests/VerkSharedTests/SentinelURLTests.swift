import Testing
@testable import VerkShared

@Suite struct SentinelURLTests {
    @Test func sentinelsMasterNameDatabaseAndBothPasswords() throws {
        let c = try RedisConfiguration(url: "redis+sentinel://app:m%40sterpw@10.0.0.1:26380,[::1],sentinel-c/mymaster/2?sentinel_password=s%26pw")
        #expect(c.endpoint == .sentinel(masterName: "mymaster", sentinels: [
            RedisAddress(host: "10.0.0.1", port: 26380), RedisAddress(host: "::1", port: 26379), RedisAddress(host: "sentinel-c", port: 26379),
        ]))
        #expect(c.username == "app" && c.password == "m@sterpw", "user:password are the master's")
        #expect(c.sentinelPassword == "s&pw" && c.sentinelUsername == nil)
        #expect(c.database == 2)
    }

    @Test func minimalFormDefaultsToPort26379AndDatabase0() throws {
        let c = try RedisConfiguration(url: "redis+sentinel://127.0.0.1/mymaster")
        #expect(c.endpoint == .sentinel(masterName: "mymaster", sentinels: [RedisAddress(host: "127.0.0.1", port: 26379)]))
        #expect(c.database == 0 && c.password == nil && c.sentinelPassword == nil)
        let trailing = try RedisConfiguration(url: "redis+sentinel://:pw@h1:1,h2:2/m/?db=3&sentinel_username=watcher&sentinel_password=x")
        #expect(trailing.database == 3 && trailing.password == "pw" && trailing.sentinelUsername == "watcher")
    }

    @Test func aSentinelListedTwiceIsAskedOnce() throws {
        let c = try RedisConfiguration(url: "redis+sentinel://h:1,h:1,h:2/m")
        #expect(c.endpoint == .sentinel(masterName: "m", sentinels: [RedisAddress(host: "h", port: 1), RedisAddress(host: "h", port: 2)]))
    }

    @Test(arguments: [
        ("redis+sentinel:///mymaster", "no sentinel addresses"),
        ("redis+sentinel://h1:26379,h2:26379", "no master name"),
        ("redis+sentinel://h1:26379,h2:26379/", "no master name"),
        ("redis+sentinel://h1:26379,,h2/mymaster", "sentinel address 2 in 'h1:26379,,h2' is empty"),
        ("redis+sentinel://h1:26379,h2:abc/mymaster", "invalid port 'abc' in 'h2:abc'"),
        ("redis+sentinel://h1:99999/mymaster", "invalid port '99999'"),
        ("redis+sentinel://[::1/mymaster", "unterminated IPv6 address"),
        ("redis+sentinel://h1/mymaster/x", "database 'x' is not a number"),
        ("redis+sentinel://h1/mymaster/0/extra", "too many path segments"),
        ("redis+sentinel://h1/my%20master", "contains whitespace"),
        ("redis+sentinel://h1/mymaster?sentinel_pasword=topsecret", "unknown parameter 'sentinel_pasword'; only db, password, sentinel_username and sentinel_password"),
        ("redis://h1:6379/0?sentinel_password=topsecret", "unknown parameter 'sentinel_password'; only db and password"),
        ("sentinel://h1/mymaster", "unsupported scheme 'sentinel'; use redis://, unix:// or redis+sentinel://"),
    ])
    func badFormsSayWhatIsWrong(_ url: String, _ expected: String) {
        #expect {
            try RedisConfiguration(url: url)
        } throws: { error in
            guard let e = error as? RedisError, case .invalidURL = e else { return false }
            let text = "\(e)"
            return text.contains(expected) && !text.contains("topsecret")
        }
    }

    @Test func passwordsNeverShow() throws {
        let url = "redis+sentinel://app:masterpw@h1:26379,h2:26380/mymaster/1?sentinel_password=sentinelpw&db=1"
        #expect(RedisConfiguration.redact(url) == "redis+sentinel://app:***@h1:26379,h2:26380/mymaster/1?sentinel_password=***&db=1")
        let c = try RedisConfiguration(url: url)
        #expect(c.description == "redis+sentinel://app@h1:26379,h2:26380/mymaster/1?sentinel_password=***")
        #expect(c.endpointDescription == "master 'mymaster' of sentinels h1:26379,h2:26380")
        #expect {
            try RedisConfiguration(url: "redis+sentinel://:masterpw@h1:x/m?sentinel_password=sentinelpw")
        } throws: { error in
            !"\(error)".contains("masterpw") && !"\(error)".contains("sentinelpw")
        }
    }

    @Test func discoveryReadsTheSentinelsAnswer() {
        #expect(SentinelDiscovery.address(in: .array([.bulk(Array("10.0.0.5".utf8)), .bulk(Array("6380".utf8))]))
                == RedisAddress(host: "10.0.0.5", port: 6380))
        #expect(SentinelDiscovery.address(in: .null) == nil, "an unknown master name")
        #expect(SentinelDiscovery.address(in: .array([.bulk(Array("h".utf8)), .bulk(Array("0".utf8))])) == nil)
        #expect(SentinelDiscovery.address(in: .error("IDONTKNOW")) == nil)
    }
}
