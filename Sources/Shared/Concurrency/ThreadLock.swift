import FoundationEssentials
import Glibc

/// A mutex with `lock`/`unlock` (and a bounded `lock(before:)`), over `pthread_mutex_t`: what `NSLock`
/// gave us, without linking Foundation. For state guarded by one lock across calls; a value kept behind a
/// lock reads better as `Synchronization.Mutex`.
package final class ThreadLock: @unchecked Sendable {
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>

    package init() {
        mutex = .allocate(capacity: 1)
        mutex.initialize(to: pthread_mutex_t())
        pthread_mutex_init(mutex, nil)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    package func lock() { pthread_mutex_lock(mutex) }

    package func unlock() { pthread_mutex_unlock(mutex) }

    /// Takes the lock unless `deadline` (wall clock, as `NSLock`'s) passes first; true if taken.
    package func lock(before deadline: Date) -> Bool {
        let seconds = deadline.timeIntervalSince1970
        guard seconds.isFinite, seconds < 1e12 else { lock(); return true }
        let whole = seconds.rounded(.down)
        var time = timespec(tv_sec: Int(whole), tv_nsec: Int((seconds - whole) * 1e9))
        return pthread_mutex_timedlock(mutex, &time) == 0
    }

    package func withLock<T, E: Error>(_ body: () throws(E) -> T) throws(E) -> T {
        lock()
        defer { unlock() }
        return try body()
    }
}
