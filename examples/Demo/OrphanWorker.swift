import Glibc
import Verk

/// `[ms]`: leaves an orphan behind, as jobs that start background programs do. It runs
/// `sh -c 'sleep … &'` and waits for `sh`, which exits at once: the `sleep` (default 1000 ms) loses its
/// parent and is re-parented to PID 1, which must reap it when it exits, or it stays a zombie. In the
/// image PID 1 is `tini`; the PID 1 tests use this worker to show it. Prints `orphan pid N` (N in the
/// node's PID namespace) on the node's stdout.
struct OrphanWorker: Worker {
    struct SpawnFailure: Error, CustomStringConvertible { let description: String }

    func perform(_ args: [JSONValue], context: JobContext) throws {
        let seconds = Double(max(0, args.first?.intValue ?? 1000)) / 1000
        let script = "sleep \(seconds) & echo \"orphan pid $!\""
        let words: [String] = ["/bin/sh", "-c", script]
        let argv = words.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, "/bin/sh", nil, nil, argv, environ)
        guard rc == 0 else { throw SpawnFailure(description: "cannot start /bin/sh: \(String(cString: strerror(rc)))") }
        // Reap `sh` itself (our own child); its background `sleep` is what is left to PID 1.
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    }
}
