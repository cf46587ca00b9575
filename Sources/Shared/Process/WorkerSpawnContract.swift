/// What a supervisor and the worker process it launches agree on: the environment that gives the child
/// its role and queue, and the fd its socket arrives on. The supervisor sets them (`ChildLauncher`); the
/// worker process reads them (`WorkerProcessMain`). Neither module depends on the other.
package enum WorkerSpawnContract {
    /// The queue the child serves; its presence makes the process a worker process.
    package static let queueVariable = "VERK_WORKER_QUEUE"
    package static let concurrencyVariable = "VERK_WORKER_CONCURRENCY"
    /// The supervisor's pid: a child whose parent already changed exits at once.
    package static let parentPIDVariable = "VERK_WORKER_PARENT_PID"
    /// Set when fd 4 holds the `StartMarks` mapping.
    package static let startMarksVariable = "VERK_WORKER_START_MARKS"
    package static let variables = [queueVariable, concurrencyVariable, parentPIDVariable, startMarksVariable]
    /// The child's end of the socketpair.
    package static let socketFD: Int32 = 3
    /// The shared `StartMarks` mapping (one slot per job thread: the concurrency).
    package static let startMarksFD: Int32 = 4
}
