import FoundationEssentials
import Glibc

/// A mutex and a condition variable in one, as `NSCondition` (`lock`, `wait`, `signal`, `broadcast`),
/// without linking Foundation. Timed waits run on CLOCK_MONOTONIC: a deadline given as a `Date` is turned
/// into "so many seconds from now" once, when the wait starts, so a wall-clock step cannot stretch or cut it.
package final class ThreadCondition: @unchecked Sendable {
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let condition: UnsafeMutablePointer<pthread_cond_t>

    package init() {
        mutex = .allocate(capacity: 1)
        mutex.initialize(to: pthread_mutex_t())
        pthread_mutex_init(mutex, nil)
        condition = .allocate(capacity: 1)
        condition.initialize(to: pthread_cond_t())
        var attributes = pthread_condattr_t()
        pthread_condattr_init(&attributes)
        pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC)
        pthread_cond_init(condition, &attributes)
        pthread_condattr_destroy(&attributes)
    }

    deinit {
        pthread_cond_destroy(condition)
        pthread_mutex_destroy(mutex)
        condition.deallocate()
        mutex.deallocate()
    }

    package func lock() { pthread_mutex_lock(mutex) }

    package func unlock() { pthread_mutex_unlock(mutex) }

    /// Waits (the lock held) until signalled; may return spuriously, so callers loop on their predicate.
    package func wait() { pthread_cond_wait(condition, mutex) }

    /// Waits (the lock held) until signalled or `deadline`; false if the deadline passed.
    package func wait(until deadline: Date) -> Bool {
        wait(seconds: deadline.timeIntervalSinceNow)
    }

    /// Waits (the lock held) until signalled or `seconds` have passed; false if they did.
    package func wait(seconds: Double) -> Bool {
        guard !seconds.isNaN else { return false }
        // Beyond a few decades is "no deadline" (and would overflow a timespec).
        guard seconds < 1e9 else { wait(); return true }
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        let delay = max(0, seconds)
        let whole = delay.rounded(.down)
        var nanoseconds = now.tv_nsec + Int((delay - whole) * 1e9)
        var time = timespec(tv_sec: now.tv_sec + Int(whole) + nanoseconds / 1_000_000_000, tv_nsec: 0)
        nanoseconds %= 1_000_000_000
        time.tv_nsec = nanoseconds
        return pthread_cond_timedwait(condition, mutex, &time) == 0
    }

    package func signal() { pthread_cond_signal(condition) }

    package func broadcast() { pthread_cond_broadcast(condition) }

    package func withLock<T, E: Error>(_ body: () throws(E) -> T) throws(E) -> T {
        lock()
        defer { unlock() }
        return try body()
    }
}
