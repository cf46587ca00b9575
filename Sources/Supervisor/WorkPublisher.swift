import Glibc
import VerkShared

/// Tells the heartbeat what one queue runs now (Sidekiq's Busy page), at most every 100 ms and only
/// when it changed. Confined to the queue manager's thread.
struct WorkPublisher {
    /// Where it publishes (a quarantine's key is not the queue's name).
    let key: String
    let queue: String
    let workState: WorkState
    private var lastPublish = 0.0
    private var lastPID: pid_t?
    /// Set by the manager when a job started or ended.
    var changed = false

    init(key: String, queue: String, workState: WorkState) {
        self.key = key
        self.queue = queue
        self.workState = workState
    }

    mutating func publish(inFlight: InFlightJobs, pid: pid_t?, now: Double = Timestamp.now()) {
        guard changed || pid != lastPID, now - lastPublish >= 0.1 else { return }
        var snapshot = WorkState.QueueSnapshot(workerPID: pid, queue: queue)
        for (seq, entry) in inFlight.entries {
            if let started = entry.startedAt { snapshot.running[seq] = WorkState.Running(payload: entry.payload, startedAt: started) }
        }
        workState.publish(queue: key, snapshot)
        lastPublish = now
        lastPID = pid
        changed = false
    }
}
