import CVerkSystem
import Glibc

/// A dedicated OS thread, started detached, for work that blocks or must live as long as something else
/// (a job slot, a fetcher, the outbox writer, a queue manager whose child's PDEATHSIG is tied to it).
/// What `Foundation.Thread` gave us, without linking Foundation: the new thread inherits the caller's
/// signal mask, and its name (truncated to the 15 bytes Linux keeps) shows in `/proc/PID/task/*/comm`.
package enum OSThread {
    /// Starts `body` on a new thread. `stackSize` in bytes; nil keeps the default (the stack rlimit's,
    /// as Foundation's `Thread` did). A thread that cannot be made stops the process: nothing here can
    /// go on without the thread it asked for.
    package static func start(name: String, stackSize: Int? = nil, _ body: @escaping @Sendable () -> Void) {
        var attributes = pthread_attr_t()
        pthread_attr_init(&attributes)
        defer { pthread_attr_destroy(&attributes) }
        pthread_attr_setdetachstate(&attributes, Int32(PTHREAD_CREATE_DETACHED))
        if let stackSize { pthread_attr_setstacksize(&attributes, stackSize) }
        let context = Unmanaged.passRetained(Start(name: name, body: body)).toOpaque()
        var thread = pthread_t()
        let rc = pthread_create(&thread, &attributes, { context in
            let start = Unmanaged<Start>.fromOpaque(context!).takeRetainedValue()
            _ = verk_set_thread_name(start.name)
            start.body()
            return nil
        }, context)
        guard rc == 0 else {
            Unmanaged<Start>.fromOpaque(context).release()
            fatalError("cannot start thread \(name): \(String(cString: strerror(rc)))")
        }
    }

    /// Blocks the calling thread for `seconds` (resumed after a signal handler, like `Thread.sleep`).
    package static func sleep(seconds: Double) {
        guard seconds > 0 else { return }
        let whole = seconds.rounded(.down)
        var request = timespec(tv_sec: Int(whole), tv_nsec: Int((seconds - whole) * 1e9))
        var remaining = timespec()
        while nanosleep(&request, &remaining) != 0 && errno == EINTR { request = remaining }
    }

    private final class Start {
        /// Linux refuses a thread name of 16 bytes or more (ERANGE), so longer ones are cut, as Foundation did.
        let name: String
        let body: @Sendable () -> Void

        init(name: String, body: @escaping @Sendable () -> Void) {
            self.name = String(decoding: name.utf8.prefix(15), as: UTF8.self)
            self.body = body
        }
    }
}
