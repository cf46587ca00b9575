#if canImport(Glibc)
// `stdout` is a C global Swift 6 sees as shared mutable state; stdio locks each FILE itself, so these calls
// are thread-safe, which @preconcurrency lets this file say.
@preconcurrency import Glibc
#else
@preconcurrency import Darwin
#endif

/// How a worker process ends. Every exit is `_exit` (no atexit handlers or static destructors run while job
/// threads may still be running), so stdio must be flushed first: otherwise what jobs printed last is lost.
enum WorkerProcessExit {
    static func now(_ code: Int32) -> Never {
        fflush(nil)  // every output stream: stdout and stderr, and any a job opened
        _exit(code)
    }

    /// Makes stdout line-buffered: it is a file or a pipe (Kubernetes), where stdio would buffer whole
    /// blocks, and a job's output should reach the node's output as each line is printed.
    static func lineBufferStdout() {
        setvbuf(stdout, nil, _IOLBF, 0)
    }
}
