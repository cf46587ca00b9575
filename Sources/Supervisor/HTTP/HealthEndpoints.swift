import Prometheus

/// What the node answers over HTTP, whatever carries it: `GET /healthz` (liveness) and `GET /readyz`
/// (readiness) are 200 `ok`, or 503 with one line per failing check; `GET /metrics` is the Prometheus text of
/// every metric; another path is 404 and another method 405. Every answer is read from memory (atomics, the
/// registry): nothing waits on Redis, so a probe answers while Redis is down.
package struct HealthEndpoints: Sendable {
    package struct Response: Sendable, Equatable {
        package var status: Int
        package var contentType: String
        package var body: [UInt8]

        package var text: String { String(decoding: body, as: UTF8.self) }
    }

    let health: NodeHealth
    let checks: HealthChecks
    /// Nil when the app's own metrics backend is not Prometheus.
    let metrics: PrometheusCollectorRegistry?

    static let plain = "text/plain; charset=utf-8"
    /// The Prometheus text exposition format.
    static let prometheus = "text/plain; version=0.0.4; charset=utf-8"

    package func respond(method: String, uri: String) -> Response {
        let path = uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? uri
        guard ["/healthz", "/readyz", "/metrics"].contains(path) else {
            return Self.text(404, "not found: \(path) (this server answers GET /healthz, /readyz and /metrics)")
        }
        guard method == "GET" else { return Self.text(405, "method \(method) not allowed: use GET") }
        switch path {
        case "/healthz": return Self.verdict(checks.liveness(health.snapshot()))
        case "/readyz": return Self.verdict(checks.readiness(health.snapshot()))
        default:
            guard let metrics else {
                return Self.text(404, "no Prometheus metrics here: the app bootstrapped its own swift-metrics backend before Verk.main")
            }
            return Response(status: 200, contentType: Self.prometheus, body: metrics.emitToBuffer())
        }
    }

    private static func verdict(_ failures: [String]) -> Response {
        failures.isEmpty ? text(200, "ok") : text(503, failures.joined(separator: "\n"))
    }

    private static func text(_ status: Int, _ text: String) -> Response {
        Response(status: status, contentType: plain, body: Array((text + "\n").utf8))
    }
}
