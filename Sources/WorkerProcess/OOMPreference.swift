import Glibc

/// Makes the kernel's OOM killer choose a worker process, never the supervisor: a worker process raises
/// its own `oom_score_adj` to the maximum (raising needs no privilege; lowering the supervisor's would).
/// Under a pod's memory limit the cgroup's OOM killer picks the highest score in the pod, so a job that
/// runs away with memory takes down its own worker process, which the supervisor replaces.
enum OOMPreference {
    static let score = 1000

    static func preferThisProcess() {
        let fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { return }  // not Linux, or /proc not mounted: nothing to do
        defer { close(fd) }
        let text = Array("\(score)\n".utf8)
        _ = text.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    }
}
