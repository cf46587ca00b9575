import Foundation
import Testing
import VerkShared

/// Sidekiq 6.4's own Web UI over a Redis our node is working on: the Busy, Queues, Retries and Dead pages
/// show our node, our queues, our failed jobs and a parked bad-input job, read by Sidekiq's code.
@Suite(.serialized) struct SidekiqWebTests {
    @Test func busyQueuesRetriesAndDeadPagesShowOurNodeAndJobs() throws {
        let ns = TestRedis.freshNamespace()
        let keys = KeySpace(namespace: ns)
        let node = try DemoNode(namespace: ns, queues: ["default:2", "mail:1"], shutdownTimeout: 1)
        let web = try SidekiqWeb(namespace: ns)
        let client = try VerkClient(url: TestRedis.url, namespace: ns)
        let conn = try TestRedis.connection()

        // Busy: the node, and the job it is running.
        let running = try client.enqueue("SleepWorker", args: [60_000], queue: "mail")
        try web.eventually("/busy", "our node running \(running)") { body in
            body.contains(#"name="identity" value="\#(node.nodeID):"#) && body.contains(running) && body.contains("SleepWorker")
        }
        let busy = try web.page("/busy")
        #expect(busy.contains("\(node.nodeID):") && busy.contains("default, mail"), "the node's hostname:pid and queues")

        // Queues: ours, with their sizes (a queue no node serves keeps its jobs).
        for i in 0..<3 { try client.enqueue("Report", args: [.int(i)], queue: "reports") }
        let queues = try web.page("/queues")
        for (name, size) in [("reports", 3), ("mail", 0)] {
            let row = try #require(queues.firstMatch(of: try Regex(#"queues/\#(name)">\#(name)</a>.*?<td>(\d+) </td>"#).dotMatchesNewlines()),
                                   "queue \(name) on the Queues page")
            #expect(row.output[1].substring.map(String.init) == String(size), "size of \(name)")
        }

        // Retries: a job our node failed, with its error.
        let failed = try client.enqueue("InteropFail", args: ["shown on the Web"], queue: "default")
        try eventually("the failed job to reach the retry set") { try conn.command("ZCARD", keys.retry).int == 1 }
        let retries = try web.page("/retries")
        #expect(retries.contains("-\(failed)") && retries.contains("InteropFail") && retries.contains("InteropFail: shown on the Web"))

        // Dead: a bad-input job our node parked, with its error class; its own page shows the original.
        try conn.command("LPUSH", keys.queue("default"), Array(#"{"class":"HardJob","args":"oops","jid":"web-bad-input"}"#.utf8))
        try eventually("the bad job to be parked in dead") { try conn.command("ZCARD", keys.dead).int == 1 }
        let morgue = try web.page("/morgue")
        #expect(morgue.contains("HardJob") && morgue.contains("Verk.InvalidPayload: job payload&#x27;s &#x27;args&#x27; is missing"), "\(morgue)")
        let link = try #require(morgue.firstMatch(of: /morgue\/([0-9.e+-]+-web-bad-input)"/), "a link to the dead job")
        let detail = try web.page("/morgue/\(link.output.1)")
        #expect(detail.contains("Verk.InvalidPayload") && detail.contains("web-bad-input") && detail.contains(ParkedPayload.textField))

        #expect(node.stop() == 0)
        #expect(!web.log.contains("Error"), "\(web.log)")
    }
}
