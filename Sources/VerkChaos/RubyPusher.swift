import Foundation
import VerkShared

/// Ruby's `Sidekiq::Client` (Debian's ruby-sidekiq 6.4) in a process of its own, pushing the jobs the
/// driver hands it: one JSON request per line on its stdin (`{"class", "args": [[…], …], "retry"}`, or
/// `{"ping": true}`), one JSON answer per line on its stdout (the jids `push_bulk` returned, "pong", or
/// `{"error": …}`).
final class RubyPusher {
    private let process: ChildProcess
    private var buffer: [UInt8] = []

    static let script = """
        require 'sidekiq'
        require 'json'
        Redis.silence_deprecations = true if Redis.respond_to?(:silence_deprecations=)
        Sidekiq.logger.level = Logger::WARN
        Sidekiq.configure_client { |c| c.redis = { url: ENV.fetch('REDIS_URL') } }
        $stdout.sync = true
        while (line = $stdin.gets)
          request = JSON.parse(line)
          begin
            if request['ping']
              Sidekiq.redis { |c| c.ping }
              puts JSON.generate('pong')
            else
              item = { 'class' => request['class'], 'queue' => 'default', 'args' => request['args'] }
              item['retry'] = request['retry'] if request.key?('retry')
              puts JSON.generate(Sidekiq::Client.push_bulk(item))
            end
          rescue => e
            puts JSON.generate({ 'error' => "#{e.class}: #{e.message}" })
          end
        end
        """

    init(redisURL: String, log: String) throws {
        var environment = ProcessInfo.processInfo.environment
        environment["REDIS_URL"] = redisURL
        process = try ChildProcess(name: "ruby", "/usr/bin/ruby", ["-e", Self.script], environment: environment, stderr: log, pipes: true)
    }

    var pid: pid_t { process.pid }

    /// Pushes RecordWorker-style jobs with these argument arrays; their jids.
    func push(className: String, args: [[JSONValue]], retry: JSONValue? = nil) throws -> [String] {
        var request: JSONObject = ["class": .string(className), "args": .array(args.map { .array($0) })]
        if let retry { request["retry"] = retry }
        let answer = try ask(.object(request), timeout: 30)
        if let error = answer["error"]?.stringValue { throw ChaosError.setup("Sidekiq::Client.push_bulk: \(error)") }
        guard let jids = answer.arrayValue?.compactMap(\.stringValue), jids.count == args.count else {
            throw ChaosError.setup("Sidekiq::Client.push_bulk answered \(JSONWriter.string(answer))")
        }
        return jids
    }

    /// A round trip to Redis through Sidekiq's pool, until one succeeds (after a Redis restart, the pool's
    /// connections are stale: redis-rb reconnects on the next command).
    func ping(attempts: Int = 20) throws {
        for attempt in 1...attempts {
            if (try? ask(["ping": true], timeout: 10))?.stringValue == "pong" { return }
            if attempt < attempts { usleep(200_000) }
        }
        throw ChaosError.setup("Ruby's Sidekiq client cannot reach Redis")
    }

    func stop() {
        process.closePipes()  // EOF on its stdin ends its loop
        process.stop(grace: 5)
    }

    private func ask(_ request: JSONValue, timeout: Double) throws -> JSONValue {
        guard let input = process.stdinFD else { throw ChaosError.setup("the Ruby pusher has no stdin") }
        let line = JSONWriter.encode(request) + [0x0A]
        let written = line.withUnsafeBytes { write(input, $0.baseAddress, $0.count) }
        guard written == line.count else { throw ChaosError.setup("cannot write to the Ruby pusher (it exited?)") }
        return try JSONParser.parse(readLine(timeout: timeout))
    }

    private func readLine(timeout: Double) throws -> [UInt8] {
        guard let output = process.stdoutFD else { throw ChaosError.setup("the Ruby pusher has no stdout") }
        let deadline = Clock.now() + timeout
        var chunk = [UInt8](repeating: 0, count: 65_536)
        while true {
            if let newline = buffer.firstIndex(of: 0x0A) {
                let line = Array(buffer[..<newline])
                buffer.removeSubrange(...newline)
                return line
            }
            let left = deadline - Clock.now()
            guard left > 0 else { throw ChaosError.setup("the Ruby pusher did not answer within \(Int(timeout)) s") }
            var pfd = pollfd(fd: output, events: Int16(POLLIN), revents: 0)
            guard poll(&pfd, 1, Int32(min(left, 1) * 1000) + 1) >= 0 || errno == EINTR else { throw ChaosError.setup("poll: \(errno)") }
            guard pfd.revents != 0 else { continue }
            let n = chunk.withUnsafeMutableBytes { read(output, $0.baseAddress, $0.count) }
            guard n > 0 else { throw ChaosError.setup("the Ruby pusher exited (see its log)") }
            buffer += chunk[..<n]
        }
    }
}
