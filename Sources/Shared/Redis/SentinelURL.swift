/// The `redis+sentinel://` URL form: which sentinels to ask, for which master, and which database.
///
///     redis+sentinel://[user:password@]host1[:26379],host2[:26379],…/MASTER_NAME[/db][?sentinel_password=…]
///
/// `user:password` are the master's (AUTH after discovery); the sentinels' own are the `sentinel_username`
/// and `sentinel_password` parameters, as redis-py and Jedis keep the two apart.
extension RedisConfiguration {
    static let sentinelScheme = "redis+sentinel"
    /// Sentinel's own default port (redis-sentinel listens on 26379 unless told otherwise).
    static let defaultSentinelPort = 26379
    static let sentinelForm = "redis+sentinel://host1:26379,host2:26379,host3:26379/MASTER_NAME[/DB]"

    /// `rest` is the URL after the scheme, its userinfo and its query; `shown` the redacted URL for errors.
    static func sentinelLocation(_ rest: String, shown: String) throws(RedisError) -> (Endpoint, database: Int) {
        let parts = rest.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard let hostList = parts.first, !hostList.isEmpty else {
            throw .invalidURL(shown, reason: "no sentinel addresses; expected \(sentinelForm)")
        }
        var sentinels: [RedisAddress] = []
        for (i, item) in hostList.split(separator: ",", omittingEmptySubsequences: false).enumerated() {
            guard !item.isEmpty else {
                throw .invalidURL(shown, reason: "sentinel address \(i + 1) in '\(hostList)' is empty (a stray comma?)")
            }
            let address = try RedisAddress(parsing: String(item), defaultPort: defaultSentinelPort, shown: shown)
            if !sentinels.contains(address) { sentinels.append(address) }
        }
        guard parts.count >= 2, !parts[1].isEmpty else {
            throw .invalidURL(shown, reason: "no master name after the sentinels; expected \(sentinelForm), the name given to `sentinel monitor` in sentinel.conf")
        }
        let name = percentDecode(parts[1])
        guard !name.contains(where: { $0.isWhitespace }) else {
            throw .invalidURL(shown, reason: "master name '\(parts[1])' contains whitespace; Sentinel's master names have none")
        }
        guard parts.count <= 3 || (parts.count == 4 && parts[3].isEmpty) else {
            throw .invalidURL(shown, reason: "too many path segments after the master name; expected \(sentinelForm)")
        }
        var database = 0
        if parts.count >= 3, !parts[2].isEmpty {
            guard let db = Int(parts[2]), db >= 0 else { throw .invalidURL(shown, reason: "database '\(parts[2])' is not a number") }
            database = db
        }
        return (.sentinel(masterName: name, sentinels: sentinels), database)
    }
}
