import VerkShared

/// After a lost connection, a job may sit in this node's in-progress list with its (B)LMOVE reply lost.
/// Only one queue manager and its fetch write that list; with the fetch quiesced, whatever the list holds
/// that is neither in flight nor pending in the settlement batch goes back to the queue — exact bytes,
/// counted one for one (the same payload can legitimately be there twice).
struct InProgressReconciler {
    let keys: KeySpace
    let queue: String
    let inProgress: String

    /// Payloads in the list that nobody accounts for.
    static func orphans(listed: [[UInt8]], known: [[UInt8]]) -> [[UInt8]] {
        var counts: [[UInt8]: Int] = [:]
        for p in known { counts[p, default: 0] += 1 }
        var orphans: [[UInt8]] = []
        for payload in listed {
            if let n = counts[payload], n > 0 { counts[payload] = n - 1 } else { orphans.append(payload) }
        }
        return orphans
    }

    /// Requeues the orphans; returns how many moved.
    func reconcile(redis: RedisConnection, known: [[UInt8]]) throws(RedisError) -> Int {
        let reply = try redis.command("LRANGE", inProgress, 0, -1)
        // Refused (-LOADING just after a restart): not an empty list; reconcile again next time.
        if let message = reply.errorMessage { throw RedisError.server(command: "LRANGE", message: message) }
        let listed = (reply.array ?? []).compactMap(\.bytes)
        let orphans = Self.orphans(listed: listed, known: known)
        guard !orphans.isEmpty else { return 0 }
        return try redis.eval(ScriptCall(Scripts.requeueJobs, keys: [inProgress, keys.queue(queue), keys.queues],
                                         args: [queue] + orphans)).int ?? 0
    }
}
