import CoreMetrics
import Prometheus
import Synchronization
import VerkShared

/// Bootstraps swift-metrics with swift-prometheus when the node serves `/metrics`, and finds the registry to
/// render there. The app decides first: if it bootstrapped a `MetricsFactory` before `Verk.main`, Verk's
/// metrics go to that one, and `/metrics` renders it only if it is a `PrometheusMetricsFactory` (an app
/// exporting to StatsD or OTLP keeps doing so). `MetricsSystem.bootstrap` can run once per process, so the
/// registry made here is kept for any later supervisor in the same process (tests).
enum PrometheusExport {
    private static let ours = Mutex<PrometheusCollectorRegistry?>(nil)

    /// Job durations span microseconds (no-op jobs) to minutes; swift-prometheus's default buckets start at 5 ms.
    static let jobDurationBuckets: [Duration] = [
        .microseconds(500), .milliseconds(1), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50),
        .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .milliseconds(2500), .seconds(5),
        .seconds(10), .seconds(30), .seconds(60), .seconds(300),
    ]

    /// The registry `/metrics` renders: ours, bootstrapped now if no factory was, or the app's own Prometheus
    /// one; nil when the app sends its metrics elsewhere.
    static func bootstrap() -> PrometheusCollectorRegistry? {
        ours.withLock { registry -> PrometheusCollectorRegistry? in
            if let registry { return registry }
            let current = MetricsSystem.factory
            if let prometheus = current as? PrometheusMetricsFactory { return prometheus.registry }
            guard current is NOOPMetricsHandler else { return nil }
            let made = PrometheusCollectorRegistry()
            var factory = PrometheusMetricsFactory(registry: made)
            factory.durationHistogramBuckets[VerkMetric.jobDuration] = jobDurationBuckets
            MetricsSystem.bootstrap(factory)
            registry = made
            return made
        }
    }

    /// Whether metrics go anywhere: with none bootstrapped, the samples that cost Redis round trips are skipped.
    static var isRecording: Bool { !(MetricsSystem.factory is NOOPMetricsHandler) }
}
