import Glibc
import VerkShared

/// SIGTERM in a worker process: the supervisor sends it to stop a process (then SIGKILL after a grace
/// period); the process flushes what it has and exits promptly. Whether the jobs still running count as
/// crashed is the supervisor's call, not ours.
enum TermSignal {
    /// Blocks SIGTERM in the calling thread, so in every thread it starts afterwards (the mask is inherited).
    /// Call first, before any thread exists: an unblocked thread would take the default action and die
    /// without flushing.
    static func block() {
        var set = termSet()
        pthread_sigmask(SIG_BLOCK, &set, nil)
    }

    /// Starts a thread that waits for SIGTERM and then runs `handler`, which must not return.
    static func handle(_ handler: @escaping @Sendable () -> Never) {
        OSThread.start(name: "verk-sigterm") {
            var set = termSet()
            var signal: Int32 = 0
            while sigwait(&set, &signal) != 0 {}
            handler()
        }
    }

    private static func termSet() -> sigset_t {
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGTERM)
        return set
    }
}
