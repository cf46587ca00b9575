import CoreMetrics
import Prometheus
import Testing
import VerkShared
@testable import VerkSupervisor

/// A job's class is read from its payload's bytes for its metrics' labels, never by parsing it, and never
/// wrongly: only the top-level `class` member counts.
@Suite struct JobClassScannerTests {
    func scanned(_ json: String) -> String? {
        let bytes = Array(json.utf8)
        return JobClassScanner.classRange(in: bytes).map { String(decoding: bytes[$0], as: UTF8.self) }
    }

    @Test func findsTheTopLevelClassWhereverItIs() {
        #expect(scanned(#"{"class":"SendEmail","args":[1]}"#) == "SendEmail")
        #expect(scanned(#" { "retry" : true , "class" : "Audit::Log" } "#) == "Audit::Log")
        #expect(scanned(#"{"args":[{"class":"Nested"},"class",["}",{"a":"\"class\":\"X\""}]],"n":-1.5e3,"ok":null,"class":"Late"}"#) == "Late")
        #expect(scanned(#"{"wrapped":{"class":"Inner","args":[]},"class":"ActiveJob::QueueAdapters::SidekiqAdapter::JobWrapper"}"#)
                == "ActiveJob::QueueAdapters::SidekiqAdapter::JobWrapper")
        #expect(scanned(#"{"class":"Ünïcode","args":[]}"#) == "Ünïcode")
    }

    /// Nil sends the caller to a full parse (or the `(unreadable)` label): never a trap, never a wrong class.
    @Test func anythingElseIsNilNotAGuess() {
        for json in ["", "[]", "{", #"{"args":[]}"#, #"{"class":1}"#, #"{"class":"Esc\"aped"}"#, #"{"cl\u0061ss":"X"}"#,
                     #"{"class""#, #"{"args":["unterminated}"#, #"{"a":1 "class":"X"}"#, "not json", #"{"a":[[[[}"#] {
            #expect(scanned(json) == nil, "\(json)")
        }
    }
}

@Suite struct JobClassMetricsTests {
    /// Records through a Prometheus factory of the test's own (task-local: nothing global is bootstrapped).
    func recorded(_ body: (inout JobClassMetrics) -> Void) -> String {
        let registry = PrometheusCollectorRegistry()
        withMetricsFactory(PrometheusMetricsFactory(registry: registry)) {
            var metrics = JobClassMetrics(queue: "mail")
            body(&metrics)
        }
        return registry.emitToString()
    }

    func job(_ className: String) -> [UInt8] { Job(className: className, args: []).encoded() }

    @Test func countsProcessedFailedAndDurationPerClass() {
        let text = recorded { m in
            m.record(job("SendEmail"), failed: false, micros: 2_000)
            m.record(job("SendEmail"), failed: true, micros: 3_000)
            m.record(job("Audit::Log"), failed: true, micros: nil)  // lost with its process: no duration
            m.record(Array(#"{"class":"Esc\"aped","args":[]}"#.utf8), failed: false, micros: 1)
            m.record(Array("garbage".utf8), failed: true, micros: nil)
        }
        #expect(text.contains(#"verk_jobs_processed_total{queue="mail",class="SendEmail"} 2"#))
        #expect(text.contains(#"verk_jobs_failed_total{queue="mail",class="SendEmail"} 1"#))
        #expect(text.contains(#"verk_jobs_processed_total{queue="mail",class="Audit::Log"} 1"#))
        #expect(text.contains(#"verk_job_duration_seconds_count{queue="mail",class="SendEmail"} 2"#))
        #expect(text.contains(#"verk_job_duration_seconds_count{queue="mail",class="Audit::Log"} 0"#))
        #expect(text.contains(#"verk_jobs_processed_total{queue="mail",class="Esc\"aped"} 1"#), "escaped: found by a full parse")
        #expect(text.contains(#"verk_jobs_failed_total{queue="mail",class="(unreadable)"} 1"#))
    }

    @Test func classesBeyondTheLimitShareOneSeries() {
        let text = recorded { m in
            for i in 0..<(JobClassMetrics.maxClasses + 20) { m.record(job("Class\(i)"), failed: false, micros: 1) }
            m.record(job("Class0"), failed: false, micros: 1)
        }
        #expect(text.contains(#"verk_jobs_processed_total{queue="mail",class="Class0"} 2"#))
        #expect(text.contains(#"verk_jobs_processed_total{queue="mail",class="other"} 20"#))
        #expect(!text.contains("Class\(JobClassMetrics.maxClasses)\""))
    }
}
