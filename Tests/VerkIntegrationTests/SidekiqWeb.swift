import Foundation
import Testing
import VerkShared

/// Sidekiq 6.4's own Web UI (Debian's ruby-sidekiq ships `sidekiq/web`), run by `rackup` on WEBrick
/// (ruby-rack, ruby-webrick) on a free loopback port, over the test Redis in a namespace. Sidekiq's Web
/// needs a Rack session for its CSRF tokens: a cookie session with a random secret. Pages are read with
/// plain GETs (no CSRF token is needed for them).
final class SidekiqWeb {
    let port: Int
    private let dir: String
    private let process: Spawned

    static let configRU = """
        require 'sidekiq'
        require 'sidekiq/web'
        cfg = { url: ENV.fetch('REDIS_URL') }
        cfg[:namespace] = ENV['NS'] if ENV['NS'] && !ENV['NS'].empty?
        Sidekiq.configure_client { |c| c.redis = cfg }
        use Rack::Session::Cookie, secret: ENV.fetch('SESSION_SECRET'), same_site: true, max_age: 86400
        run Sidekiq::Web
        """

    init(namespace: String?, url: String = TestRedis.url) throws {
        dir = NSTemporaryDirectory() + "verk-sidekiq-web-" + JobID.generate().prefix(8)
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try Self.configRU.write(toFile: dir + "/config.ru", atomically: true, encoding: .utf8)
        port = try PrivateRedis.freePort()
        process = try Spawned("/usr/bin/rackup", [dir + "/config.ru", "-s", "webrick", "-o", "127.0.0.1", "-p", "\(port)", "-E", "deployment"],
                              env: ["REDIS_URL": url, "NS": namespace ?? "", "SESSION_SECRET": JobID.generate() + JobID.generate() + JobID.generate()])
        let get = HTTPGet(port: port)
        try VerkIntegrationTests.eventually(timeout: 30, "Sidekiq's Web UI to answer on \(port)") {
            if process.hasExited { throw TestFailure.process("rackup exited: \(process.stderr)") }
            return get("/busy")?.status == 200
        }
    }

    /// A page's body; fails the test unless it answers 200.
    func page(_ path: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
        let response = try #require(HTTPGet(port: port)(path), "no answer for \(path)", sourceLocation: sourceLocation)
        try #require(response.status == 200, "\(path) answered \(response.status): \(response.body.prefix(2000))", sourceLocation: sourceLocation)
        return response.body
    }

    /// Polls a page until `condition` holds for its body (the Web reads Redis live; the node writes it on its beat).
    @discardableResult
    func eventually(_ path: String, _ what: String, _ condition: (String) -> Bool) throws -> String {
        var body = ""
        try VerkIntegrationTests.eventually("\(path) to show \(what)") {
            body = try page(path)
            return condition(body)
        }
        return body
    }

    var log: String { process.stderr }

    deinit {
        process.signal(SIGINT)  // WEBrick's clean stop
        let deadline = Date().addingTimeInterval(5)
        while !process.hasExited && Date() < deadline { Thread.sleep(forTimeInterval: 0.01) }
        process.signal(SIGKILL)
        process.wait()
        try? FileManager.default.removeItem(atPath: dir)
    }
}
