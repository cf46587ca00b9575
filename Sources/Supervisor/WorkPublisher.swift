import Foundation
import VerkShared

/// Tells the heartbeat what one queue runs now (Sidekiq's Busy page), at most every 100 ms and only
/// when it changed. Confined to the queue manager's thread.
struct WorkPublisher {
    let queue: String
    let workState: WorkState
    private var lastPublish = 0.0
    private var lastPID: pid_t?
    /// Set by the manager when a job started or ended.
    var changed = false

    init(queue: String, workState: WorkState) {
        self.queue = queue
        self.workState = workState
    }

    mutating func publish(inFlight: InFlightJobs, pid: pid_t?, now: Double = Timestamp.now()) {
        guard changed || pid != lastPID, now - lastPublish >= 0.1 else { return }
        var snapshot = WorkState.QueueSnapshot(workerPID: pid)
        for (seq, entry) in inFlight.entries {
            if let started = entry.startedAt { snapshot.running[seq] = WorkState.Running(payload: entry.payload, startedAt: started) }
        }
        workState.publish(queue: queue, snapshot)
        lastPublish = now
        lastPID = pid
        changed = false
    }
}
