import VerkShared

/// `concurrency` dedicated threads taking jobs from one queue. Dedicated threads, not Dispatch or Tasks:
/// jobs block, and those pools run only 2–4 blocking jobs at once on this kind of machine.
/// `@unchecked Sendable`: all mutable state is only touched under `condition`.
final class JobPool: @unchecked Sendable {
    /// `slot` is the running thread's index (0..<concurrency): its `StartMarks` slot.
    typealias Execute = @Sendable (_ slot: Int, _ seq: UInt64, _ payload: [UInt8]) -> Void

    private let condition = ThreadCondition()
    private var pending: [(seq: UInt64, payload: [UInt8])] = []
    private var head = 0
    private var running = 0
    /// Threads waiting for a job. Wakes are chained: a submit wakes one, and a thread that takes a job
    /// while more wait wakes the next. Short jobs are then run by the few threads already awake instead of
    /// each job costing a futex wake and a context switch (the pool's cost on 2 cores, measured: 75% of
    /// the worker process's CPU went to waking threads when every job woke one); long jobs still spread
    /// over every thread, one wake-up later each.
    private var idle = 0
    /// Signalled threads that have not yet woken (each will take a job or wake no one).
    private var waking = 0
    private var draining = false
    private let execute: Execute
    private let onIdleWhileDraining: @Sendable () -> Void

    init(concurrency: Int, execute: @escaping Execute, onIdleWhileDraining: @escaping @Sendable () -> Void) {
        self.execute = execute
        self.onIdleWhileDraining = onIdleWhileDraining
        for i in 0..<concurrency {
            OSThread.start(name: "verk-job-\(i)", stackSize: 8 << 20) { [self] in workLoop(slot: i) }
        }
    }

    func submit(seq: UInt64, payload: [UInt8]) { submit([(seq, payload)]) }

    /// Queues jobs read from one socket read under one lock, waking as many threads as there are jobs.
    func submit(_ jobs: [(seq: UInt64, payload: [UInt8])]) {
        guard !jobs.isEmpty else { return }
        condition.lock()
        pending += jobs
        wakeOneIfNeeded()
        condition.unlock()
    }

    /// Stops starting jobs; returns the ones never started. Calls `onIdleWhileDraining` once nothing runs.
    func drain() -> [UInt64] {
        condition.lock()
        draining = true
        let unstarted = pending[head...].map(\.seq)
        pending.removeAll()
        head = 0
        let idle = running == 0
        condition.broadcast()
        condition.unlock()
        if idle { onIdleWhileDraining() }
        return unstarted
    }

    /// Under the lock: wakes one more thread when jobs wait beyond what woken threads will take.
    private func wakeOneIfNeeded() {
        guard !draining, idle > waking, pending.count - head > waking else { return }
        waking += 1
        condition.signal()
    }

    private func workLoop(slot: Int) {
        while true {
            condition.lock()
            // While draining nothing new starts; the process exits once the running jobs are done.
            while head >= pending.count || draining {
                idle += 1
                condition.wait()
                idle -= 1
                if waking > 0 { waking -= 1 }
            }
            let item = pending[head]
            head += 1
            wakeOneIfNeeded()
            if head > 1024 && head * 2 > pending.count {
                pending.removeSubrange(0..<head)
                head = 0
            }
            running += 1
            condition.unlock()

            execute(slot, item.seq, item.payload)

            condition.lock()
            running -= 1
            let idle = draining && running == 0
            condition.unlock()
            if idle { onIdleWhileDraining() }
        }
    }
}
