import VerkShared

/// What a queue manager runs: its queue (`normal`), or the suspects of a worker-process crash of that
/// queue, one at a time in a worker process of their own (`quarantine`), so the one that crashes it again
/// is the culprit and the others complete uncharged. A quarantine manager is started on demand and ends
/// when no suspect is left; it uses the same worker code, at concurrency 1 with no prefetch.
enum QueueRole: Equatable, Sendable {
    case normal
    case quarantine

    /// The list jobs are fetched from; requeued jobs go back to its pop end.
    func source(_ keys: KeySpace, queue: String, node: String) -> String {
        self == .normal ? keys.queue(queue) : keys.quarantine(queue: queue, node: node)
    }

    func inProgress(_ keys: KeySpace, queue: String, node: String) -> String {
        self == .normal ? keys.inProgress(queue: queue, node: node) : keys.quarantineRunning(queue: queue, node: node)
    }

    /// Where suspects go: nowhere in quarantine, where every crash has its culprit.
    func quarantine(_ keys: KeySpace, queue: String, node: String) -> String? {
        self == .normal ? keys.quarantine(queue: queue, node: node) : nil
    }

    /// How the worker process is started: a quarantine process runs one job at a time.
    func processConfiguration(_ queue: QueueConfiguration) -> QueueConfiguration {
        self == .normal ? queue : QueueConfiguration(queue.name, concurrency: 1, memoryLimitMB: queue.memoryLimitMB)
    }

    /// How many jobs its worker process holds: the queue's adaptive (or configured) prefetch window; one at
    /// a time in quarantine.
    func window(_ queue: QueueConfiguration, _ configuration: VerkConfiguration) -> PrefetchWindow {
        self == .normal ? PrefetchWindow(concurrency: queue.concurrency, configured: configuration.prefetch)
                        : PrefetchWindow(concurrency: 1, configured: 0)
    }

    /// The name it shows under on Sidekiq's Busy page and in `WorkState`.
    func workKey(_ queue: String) -> String { self == .normal ? queue : queue + " (quarantine)" }
}
