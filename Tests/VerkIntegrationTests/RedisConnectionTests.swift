import Foundation
import Testing
import VerkShared

@Suite(.serialized) struct RedisConnectionTests {
    @Test func pipelineSendsManyCommandsInOneRoundTripWithRepliesInOrder() throws {
        let conn = try TestRedis.connection()
        let key = TestRedis.freshNamespace("pipe")
        var commands = (0..<1000).map { RedisCommand("RPUSH", key, $0) }
        commands.append(RedisCommand("LRANGE", key, 0, -1))
        commands.append(RedisCommand("INCR", key))  // WRONGTYPE: an error reply in place, the rest unaffected
        commands.append(RedisCommand("DEL", key))
        let replies = try conn.pipeline(commands)
        #expect(replies.count == 1003)
        #expect(replies[999] == .integer(1000))
        #expect(replies[1000].array?.compactMap(\.int) == Array(0..<1000))
        #expect(replies[1001].errorMessage?.hasPrefix("WRONGTYPE") == true)
        #expect(replies[1002] == .integer(1))
    }

    @Test func argumentsAreBinarySafe() throws {
        let conn = try TestRedis.connection()
        let key = TestRedis.freshNamespace("bin")
        let value: [UInt8] = [0, 13, 10, 0xFF, UInt8(ascii: "$"), UInt8(ascii: "*"), 0]
        try conn.command("SET", key, value)
        #expect(try conn.command("GET", key).bytes == value)
        try conn.command("DEL", key)
    }

    @Test func reconnectsAfterARedisRestartAndRestoresDatabaseAndName() throws {
        let redis = try PrivateRedis()
        var config = try RedisConfiguration(url: "redis://127.0.0.1:\(redis.port)/3")
        config.reconnectTimeout = 10
        let conn = try RedisConnection(configuration: config, name: "verk-reconnect-test")
        try conn.command("SET", "k", "before")
        redis.stop()
        // The command that meets the dead socket fails (it may or may not have run)…
        #expect(throws: RedisError.self) { try conn.command("GET", "k") }
        try redis.start()
        // …and the next one reconnects, in db 3 again, with its name again.
        try conn.command("SET", "k", "after")
        #expect(try conn.command("CLIENT", "GETNAME").string == "verk-reconnect-test")
        let check = try RedisConnection(url: "redis://127.0.0.1:\(redis.port)/3")
        #expect(try check.command("GET", "k").string == "after")
    }

    @Test func reconnectGivesUpWithAClearErrorWhenRedisStaysDown() throws {
        let redis = try PrivateRedis()
        var config = try RedisConfiguration(url: redis.url)
        config.reconnectTimeout = 0.3
        let conn = try RedisConnection(configuration: config)
        redis.stop()
        #expect(throws: RedisError.self) { try conn.command("PING") }
        #expect {
            try conn.command("PING")
        } throws: { error in
            "\(error)".contains("cannot connect to Redis at 127.0.0.1:\(redis.port)")
        }
    }

    @Test func authenticatesWithAnACLUserAndRejectsWrongPasswordsWithoutShowingThem() throws {
        let redis = try PrivateRedis(extraArgs: ["--requirepass", "defaultpw"])
        let admin = try RedisConnection(url: "redis://:defaultpw@127.0.0.1:\(redis.port)/0")
        try admin.command("ACL", "SETUSER", "alice", "on", ">alicepw", "~*", "&*", "+@all")
        let alice = try RedisConnection(url: "redis://alice:alicepw@127.0.0.1:\(redis.port)/0")
        #expect(try alice.command("ACL", "WHOAMI").string == "alice")
        #expect {
            try RedisConnection(url: "redis://alice:wrongpw-xyz@127.0.0.1:\(redis.port)/0")
        } throws: { error in
            guard case .authentication = error as? RedisError else { return false }
            return "\(error)".contains("wrong username or password") && !"\(error)".contains("wrongpw-xyz")
        }
        #expect {
            try RedisConnection(url: "redis://127.0.0.1:\(redis.port)/0")
        } throws: { error in
            "\(error)".contains("requires a password")
        }
    }

    @Test func connectsOverAUnixSocketWithPasswordAndDatabase() throws {
        let socket = NSTemporaryDirectory() + "verk-\(JobID.generate().prefix(8)).sock"
        let redis = try PrivateRedis(extraArgs: ["--unixsocket", socket, "--unixsocketperm", "700", "--requirepass", "sockpw"])
        defer { unlink(socket) }
        let conn = try RedisConnection(url: "unix://:sockpw@\(socket)?db=5", name: "verk-unix-test")
        try conn.command("SET", "k", "v")
        let viaTCP = try RedisConnection(url: "redis://:sockpw@127.0.0.1:\(redis.port)/5")
        #expect(try viaTCP.command("GET", "k").string == "v", "same server, database 5")
        let client = try VerkClient(url: "unix://:sockpw@\(socket)?db=5")
        let jid = try client.enqueue("A", args: [])
        #expect(jid.count == 24)
    }

    @Test func connectionRefusedNamesTheEndpoint() throws {
        let port = try PrivateRedis.freePort()
        var config = try RedisConfiguration(url: "redis://127.0.0.1:\(port)/0")
        config.reconnectTimeout = 0
        #expect {
            try RedisConnection(configuration: config)
        } throws: { error in
            "\(error)".contains("cannot connect to Redis at 127.0.0.1:\(port)") && "\(error)".contains("refused")
        }
    }

    @Test func scriptsAreReloadedAfterTheScriptCacheIsFlushed() throws {
        let conn = try TestRedis.connection()
        let script = RedisScript(name: "echo", source: "return ARGV[1]")
        #expect(try conn.eval(ScriptCall(script, keys: [], args: ["one"])).string == "one")
        try conn.command("SCRIPT", "FLUSH")
        #expect(try conn.eval(ScriptCall(script, keys: [], args: ["two"])).string == "two")
        try conn.command("SCRIPT", "FLUSH")
        let replies = try conn.pipeline([.script(ScriptCall(script, keys: [], args: ["three"])), .command(RedisCommand("PING"))])
        #expect(replies[0].string == "three")
    }
}
