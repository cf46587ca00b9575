import CVerkHiredis
import FoundationEssentials
import Glibc
import Logging

/// One hiredis connection. Deliberately not `Sendable`: hiredis contexts are not thread-safe, so a
/// connection is owned by exactly one thread (a queue manager's, the scheduler's) or guarded by a lock.
///
/// After an I/O error the hiredis context is dead; the command that saw it fails (it may or may not have
/// run), and the next command reconnects with backoff, re-applying timeouts, AUTH, SELECT and the name,
/// which hiredis's own reconnect forgets. Both are counted through swift-metrics (`VerkMetric.redisErrors`:
/// a lost connection, a master given up, or a reconnect given up; `VerkMetric.redisReconnects`).
///
/// Behind Sentinel (`redis+sentinel://`), every (re)connect first asks the sentinels for the master and
/// checks that it says so (ROLE). The server in use is given up as soon as it stops being the writable
/// master — a READONLY or NOREPLICAS reply, or the sentinels naming another master (asked at most every
/// `sentinelCheckInterval`) — the same way as a lost connection: that command fails as a connection
/// failure, so callers back off and reconcile as after an outage, and the next one goes to the new master.
public final class RedisConnection {
    public let configuration: RedisConfiguration
    public let name: String?
    private var context: UnsafeMutablePointer<redisContext>?
    private var scriptShas: [RedisScript: String] = [:]
    private var logger: Logger
    /// Socket timeout currently applied; raised temporarily for blocking commands.
    private var appliedTimeout: Double = 0
    /// Sentinel only: finds the master, and says when to ask again whether it moved.
    private let discovery: SentinelDiscovery?
    /// Sentinel only: the master this connection found (kept after a disconnect, for messages).
    private var master: RedisAddress?

    /// Connects at once: a bad URL, a refused connection or a wrong password fail here, clearly.
    public init(configuration: RedisConfiguration, name: String? = nil, logger: Logger? = nil) throws(RedisError) {
        self.configuration = configuration
        self.name = name
        let logger = logger ?? Logger(label: "verk.redis")
        self.logger = logger
        if case .sentinel(let masterName, let sentinels) = configuration.endpoint {
            discovery = SentinelDiscovery(masterName: masterName, sentinels: sentinels, configuration: configuration,
                                          name: name, logger: logger)
        } else {
            discovery = nil
        }
        try connect()
    }

    public convenience init(url: String, name: String? = nil, logger: Logger? = nil) throws(RedisError) {
        try self.init(configuration: RedisConfiguration(url: url), name: name, logger: logger)
    }

    deinit { close() }

    public var isConnected: Bool { context != nil }

    /// The server this connection talks to (behind Sentinel, the master it found), nil when disconnected.
    package var connectedEndpoint: String? {
        guard context != nil else { return nil }
        return master?.description ?? configuration.endpointDescription
    }

    public func close() {
        if let context { redisFree(context) }
        context = nil
    }

    /// Where, for messages and logs: the server, or behind Sentinel the master found (and its name).
    private var endpoint: String {
        guard let discovery else { return configuration.endpointDescription }
        return master.map { "\($0) (master '\(discovery.masterName)')" } ?? configuration.endpointDescription
    }

    // MARK: Connecting

    private func connect() throws(RedisError) {
        close()
        scriptShas.removeAll()
        let tv = Self.timeval(configuration.connectTimeout)
        let ctx: UnsafeMutablePointer<redisContext>?
        if let discovery {
            let found = try discovery.master()
            if let master, master != found {
                logger.warning("the sentinels name a new Redis master", metadata: [
                    "master": "\(discovery.masterName)", "from": "\(master)", "to": "\(found)", "connection": "\(name ?? "-")"])
            }
            master = found
            ctx = redisConnectWithTimeout(found.host, Int32(found.port), tv)
        } else {
            switch configuration.endpoint {
            case .tcp(let host, let port): ctx = redisConnectWithTimeout(host, Int32(port), tv)
            case .unix(let path): ctx = redisConnectUnixWithTimeout(path, tv)
            // A sentinel endpoint always has a discovery (init); refuse rather than crash if that ever changes.
            case .sentinel: throw .connect(endpoint: endpoint, reason: "no sentinel discovery for this connection")
            }
        }
        guard let ctx else { throw .connect(endpoint: endpoint, reason: "out of memory creating the hiredis context") }
        if ctx.pointee.err != 0 {
            let reason = Self.errorString(ctx)
            redisFree(ctx)
            throw .connect(endpoint: endpoint, reason: reason)
        }
        context = ctx
        appliedTimeout = 0
        try applyTimeout(configuration.commandTimeout)
        do {
            try handshake()
        } catch {
            close()
            throw error
        }
        discovery?.connected()
    }

    /// AUTH, SELECT and CLIENT SETNAME: done at every (re)connect because hiredis does not replay them.
    private func handshake() throws(RedisError) {
        if let password = configuration.password {
            let auth = configuration.username.map { RedisCommand("AUTH", $0, password) } ?? RedisCommand("AUTH", password)
            if case .error(let message) = try rawCommand(auth) {
                throw .authentication(endpoint: endpoint, reason: Self.authReason(message))
            }
        } else if case .error(let message) = try rawCommand(RedisCommand("PING")), message.hasPrefix("NOAUTH") {
            throw .authentication(endpoint: endpoint, reason: "the server requires a password and the URL has none")
        }
        if let discovery { try requireMasterRole(discovery) }
        if configuration.database != 0, case .error(let message) = try rawCommand(RedisCommand("SELECT", configuration.database)) {
            throw .server(command: "SELECT", message: message)
        }
        if let name {
            _ = try rawCommand(RedisCommand("CLIENT", "SETNAME", name.replacing(" ", with: "-")))
        }
    }

    /// A sentinel may still name a master that a failover has just demoted (it says so until the failover
    /// completes): writing there would be lost, so such a server is refused and discovery tried again.
    private func requireMasterRole(_ discovery: SentinelDiscovery) throws(RedisError) {
        let reply = try rawCommand(RedisCommand("ROLE"))
        if let message = reply.errorMessage {
            // An ACL without +role: Sentinel's word and the READONLY check have to do.
            logger.warning("cannot check the Redis master's ROLE; trusting the sentinels", metadata: ["endpoint": "\(endpoint)", "error": "\(message)"])
            return
        }
        let role = reply.array?.first?.string ?? "?"
        guard role == "master" else {
            let sentinel = discovery.lastAnswer.map { "sentinel \($0)" } ?? "the sentinels"
            throw .noMaster(name: discovery.masterName, reason: "\(sentinel) named \(master.map(\.description) ?? "?"), which says it is a \(role == "slave" ? "replica" : role) (ROLE); a failover is under way")
        }
    }

    private static func authReason(_ message: String) -> String {
        if message.hasPrefix("WRONGPASS") { return "wrong username or password (WRONGPASS)" }
        if message.contains("without any password configured") { return "a password was given but the server has none configured" }
        return message
    }

    /// Reconnects with exponential backoff until `reconnectTimeout` runs out. A refused AUTH is final.
    public func reconnect() throws(RedisError) {
        let deadline = Date().addingTimeInterval(configuration.reconnectTimeout)
        var delay = 0.05
        var attempt = 0
        while true {
            attempt += 1
            do {
                try connect()
                if attempt > 1 { logger.info("reconnected to Redis", metadata: ["endpoint": "\(endpoint)", "attempts": "\(attempt)"]) }
                VerkMetric.count(VerkMetric.redisReconnects)
                return
            } catch {
                guard error.isConnectionFailure, Date().addingTimeInterval(delay) < deadline else {
                    VerkMetric.count(VerkMetric.redisErrors)
                    throw error
                }
                if attempt == 1 { logger.warning("Redis unreachable, retrying", metadata: ["endpoint": "\(endpoint)", "error": "\(error)"]) }
                OSThread.sleep(seconds: delay)
                delay = min(delay * 2, 1.0)
            }
        }
    }

    /// Reconnects a dead connection; behind Sentinel, also gives up a live one whose master the sentinels no
    /// longer name (asked at most every `sentinelCheckInterval`), before `command` is sent.
    private func ensureConnected(for command: @autoclosure () -> String) throws(RedisError) {
        if context == nil { return try reconnect() }
        guard let discovery, discovery.checkIsDue, let named = discovery.recheck(), named != master else { return }
        let was = endpoint
        close()
        VerkMetric.count(VerkMetric.redisErrors)
        throw .notMaster(endpoint: was, command: command(), reason: "the sentinels now name \(named) as master '\(discovery.masterName)'")
    }

    /// Behind Sentinel, a READONLY or NOREPLICAS reply means this server no longer takes writes as master
    /// (a failover demoted it, or its replicas are gone): drop it, as after a lost connection, so the caller
    /// keeps what it meant to write and the next command asks the sentinels again. Without Sentinel the
    /// error stays an ordinary reply: there is nowhere else to go.
    private func requireWritable(_ replies: [RedisReply], command: @autoclosure () -> String) throws(RedisError) {
        guard discovery != nil else { return }
        for reply in replies {
            guard let message = reply.errorMessage, message.hasPrefix("READONLY") || message.hasPrefix("NOREPLICAS") else { continue }
            let was = endpoint
            close()
            VerkMetric.count(VerkMetric.redisErrors)
            throw .notMaster(endpoint: was, command: command(), reason: "it answered \(message.prefix { $0 != "." })")
        }
    }

    private func applyTimeout(_ seconds: Double) throws(RedisError) {
        guard let context, seconds != appliedTimeout else { return }
        if redisSetTimeout(context, Self.timeval(seconds)) != REDIS_OK {
            throw failure(command: "setting the socket timeout")
        }
        appliedTimeout = seconds
    }

    // MARK: Commands

    /// Sends one command and waits for its reply. A `-ERR` reply is returned as `.error`, not thrown.
    @discardableResult
    public func send(_ command: RedisCommand) throws(RedisError) -> RedisReply {
        try ensureConnected(for: command.name)
        let reply = try rawCommand(command)
        try requireWritable([reply], command: command.name)
        return reply
    }

    /// Sends one command; an error reply is thrown as `RedisError.server`.
    @discardableResult
    public func command(_ command: RedisCommand) throws(RedisError) -> RedisReply {
        let reply = try send(command)
        if case .error(let message) = reply { throw .server(command: command.name, message: message) }
        return reply
    }

    @discardableResult
    public func command(_ name: String, _ args: any RedisArgument...) throws(RedisError) -> RedisReply {
        try command(RedisCommand(name, args))
    }

    /// A blocking command (BLMOVE, BRPOP): the socket timeout is raised above `blockingSeconds`, because
    /// hiredis would otherwise kill the connection when the socket timeout fires first.
    public func blockingCommand(_ command: RedisCommand, blockingSeconds: Double) throws(RedisError) -> RedisReply {
        try ensureConnected(for: command.name)
        let needed = blockingSeconds + configuration.commandTimeout
        try applyTimeout(needed)
        let reply = try rawCommand(command)
        try requireWritable([reply], command: command.name)
        if case .error(let message) = reply { throw .server(command: command.name, message: message) }
        return reply
    }

    /// Sends all commands in one write and reads all replies: one round trip. Error replies stay in place.
    @discardableResult
    public func pipeline(_ commands: [RedisCommand]) throws(RedisError) -> [RedisReply] {
        guard !commands.isEmpty else { return [] }
        try ensureConnected(for: "pipeline of \(commands.count) (from \(commands[0].name))")
        try applyTimeout(configuration.commandTimeout)
        guard let context else { throw .connect(endpoint: endpoint, reason: "not connected") }
        // One block for the whole pipeline, written by hiredis at the first reply read.
        var wire: [UInt8] = []
        wire.reserveCapacity(commands.reduce(0) { $0 + RESPEncoder.size(of: $1.arguments) })
        for command in commands { RESPEncoder.append(command.arguments, to: &wire) }
        let rc = wire.withUnsafeBytes { raw in
            redisAppendFormattedCommand(context, raw.baseAddress!.assumingMemoryBound(to: CChar.self), raw.count)
        }
        if rc != REDIS_OK { throw failure(command: commands[0].name) }
        var replies: [RedisReply] = []
        replies.reserveCapacity(commands.count)
        for command in commands {
            var raw: UnsafeMutableRawPointer? = nil
            guard redisGetReply(context, &raw) == REDIS_OK, let raw else { throw failure(command: "pipeline of \(commands.count) (at \(command.name))") }
            let reply = raw.assumingMemoryBound(to: redisReply.self)
            replies.append(Self.copy(reply))
            freeReplyObject(raw)
        }
        try requireWritable(replies, command: "pipeline of \(commands.count) (from \(commands[0].name))")
        return replies
    }

    // MARK: Scripts

    /// The EVALSHA command for a script call, loading the script first if this connection has not yet.
    package func scriptCommand(_ call: ScriptCall) throws(RedisError) -> RedisCommand {
        let sha = try loadScript(call.script)
        return RedisCommand(arguments: [Array("EVALSHA".utf8), Array(sha.utf8), Array(String(call.keys.count).utf8)]
            + call.keys.map { Array($0.utf8) } + call.args)
    }

    /// Runs a script call; reloads the script once on NOSCRIPT.
    @discardableResult
    package func eval(_ call: ScriptCall) throws(RedisError) -> RedisReply {
        var reply = try send(scriptCommand(call))
        if let message = reply.errorMessage, message.hasPrefix("NOSCRIPT") {
            scriptShas[call.script] = nil
            reply = try send(scriptCommand(call))
        }
        if case .error(let message) = reply { throw .server(command: "script \(call.script.name)", message: message) }
        return reply
    }

    /// Runs a pipeline whose members may be script calls; a NOSCRIPT reply (the script did not run) is
    /// retried once on its own after reloading, so callers see the script's real reply.
    @discardableResult
    package func pipeline(_ items: [PipelineItem]) throws(RedisError) -> [RedisReply] {
        var commands: [RedisCommand] = []
        commands.reserveCapacity(items.count)
        for item in items {
            switch item {
            case .command(let c): commands.append(c)
            case .script(let s): commands.append(try scriptCommand(s))
            }
        }
        var replies = try pipeline(commands)
        for (i, item) in items.enumerated() {
            guard case .script(let call) = item, let message = replies[i].errorMessage, message.hasPrefix("NOSCRIPT") else { continue }
            scriptShas[call.script] = nil
            replies[i] = try send(scriptCommand(call))
        }
        return replies
    }

    private func loadScript(_ script: RedisScript) throws(RedisError) -> String {
        if let sha = scriptShas[script] { return sha }
        guard let sha = try command(RedisCommand("SCRIPT", "LOAD", script.source)).string else {
            throw .unexpectedReply(command: "SCRIPT LOAD \(script.name)", expected: "a sha", got: "nothing")
        }
        scriptShas[script] = sha
        return sha
    }

    // MARK: hiredis plumbing

    private func rawCommand(_ command: RedisCommand) throws(RedisError) -> RedisReply {
        guard let context else { throw .connect(endpoint: endpoint, reason: "not connected") }
        let raw = Self.withArgv(command.arguments) { argc, argv, lens in redisCommandArgv(context, argc, argv, lens) }
        guard let raw else { throw failure(command: command.name) }
        defer { freeReplyObject(raw) }
        return Self.copy(raw.assumingMemoryBound(to: redisReply.self))
    }

    /// The context is dead after an I/O error: record why, drop it, and make the next call reconnect.
    private func failure(command: String) -> RedisError {
        let reason = context.map(Self.errorString) ?? "not connected"
        close()
        VerkMetric.count(VerkMetric.redisErrors)
        return .io(endpoint: endpoint, command: command, reason: reason)
    }

    private static func errorString(_ ctx: UnsafeMutablePointer<redisContext>) -> String {
        let text = withUnsafeBytes(of: ctx.pointee.errstr) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        return text.isEmpty ? "error \(ctx.pointee.err)" : text
    }

    private static func timeval(_ seconds: Double) -> Glibc.timeval {
        let whole = Int(seconds)
        return Glibc.timeval(tv_sec: whole, tv_usec: Int((seconds - Double(whole)) * 1_000_000))
    }

    /// Copies all arguments into one buffer and calls `body` with hiredis's argv/argvlen arrays.
    private static func withArgv<R>(
        _ args: [[UInt8]], _ body: (Int32, UnsafeMutablePointer<UnsafePointer<CChar>?>, UnsafePointer<Int>) -> R
    ) -> R {
        var flat: [UInt8] = []
        flat.reserveCapacity(args.reduce(0) { $0 + $1.count } + 1)
        var offsets: [Int] = []
        var lengths: [Int] = []
        for a in args {
            offsets.append(flat.count)
            lengths.append(a.count)
            flat.append(contentsOf: a)
        }
        flat.append(0)
        return flat.withUnsafeBufferPointer { buf in
            let base = UnsafeRawPointer(buf.baseAddress!).assumingMemoryBound(to: CChar.self)
            var argv: [UnsafePointer<CChar>?] = offsets.map { base + $0 }
            return argv.withUnsafeMutableBufferPointer { argvBuf in
                lengths.withUnsafeBufferPointer { lenBuf in
                    body(Int32(args.count), argvBuf.baseAddress!, lenBuf.baseAddress!)
                }
            }
        }
    }

    private static func copy(_ reply: UnsafeMutablePointer<redisReply>) -> RedisReply {
        let r = reply.pointee
        switch r.type {
        case REDIS_REPLY_STRING:
            return .bulk(r.str.map { Array(UnsafeRawBufferPointer(start: $0, count: r.len)) } ?? [])
        case REDIS_REPLY_STATUS:
            return .status(r.str.map { String(decoding: UnsafeRawBufferPointer(start: $0, count: r.len), as: UTF8.self) } ?? "")
        case REDIS_REPLY_ERROR:
            return .error(r.str.map { String(decoding: UnsafeRawBufferPointer(start: $0, count: r.len), as: UTF8.self) } ?? "")
        case REDIS_REPLY_INTEGER:
            return .integer(Int(r.integer))
        case REDIS_REPLY_ARRAY:
            var elements: [RedisReply] = []
            elements.reserveCapacity(r.elements)
            for i in 0..<r.elements {
                if let e = r.element[i] { elements.append(copy(e)) } else { elements.append(.null) }
            }
            return .array(elements)
        default:
            return .null
        }
    }
}

/// A member of a mixed pipeline: a plain command, or a script call.
package enum PipelineItem: Sendable {
    case command(RedisCommand)
    case script(ScriptCall)
}
