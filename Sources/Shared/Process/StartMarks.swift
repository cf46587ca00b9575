import CVerkSystem
import Glibc

/// Which jobs a worker process is running, in memory it shares with its supervisor: one slot per job
/// thread, holding the sequence number of the job that thread runs (0: none). A thread stores the number
/// before the job's code runs — a memory store, not a frame, so the per-job cost is nanoseconds — and the
/// mapping outlives the process, so after a crash the supervisor reads exactly which jobs were running.
/// That is what lets a poison job be found without a synchronous "started" message per job.
package final class StartMarks: @unchecked Sendable {
    // @unchecked: the slots are only touched through atomic loads and stores on shared memory.
    package let slots: Int
    private let base: UnsafeMutablePointer<UInt64>
    private let length: Int

    private init(base: UnsafeMutableRawPointer, slots: Int, length: Int) {
        self.base = base.bindMemory(to: UInt64.self, capacity: slots)
        self.slots = slots
        self.length = length
    }

    deinit { munmap(UnsafeMutableRawPointer(base), length) }

    /// The supervisor's side: a new zeroed mapping, and the fd to hand to the worker process (close it
    /// once the process is spawned).
    package static func create(slots: Int) throws -> (marks: StartMarks, fd: Int32) {
        let fd = verk_memfd("verk-start-marks")
        guard fd >= 0 else { throw StartMarksError.cannotCreate(errno) }
        let length = max(1, slots) * MemoryLayout<UInt64>.stride
        guard ftruncate(fd, off_t(length)) == 0, let marks = map(fd, slots: max(1, slots), length: length) else {
            let e = errno
            close(fd)
            throw StartMarksError.cannotCreate(e)
        }
        return (marks, fd)
    }

    /// The worker process's side: maps the fd its supervisor passed (nil if there is none).
    package static func adopt(fd: Int32, slots: Int) -> StartMarks? {
        let length = max(1, slots) * MemoryLayout<UInt64>.stride
        let marks = map(fd, slots: max(1, slots), length: length)
        close(fd)
        return marks
    }

    private static func map(_ fd: Int32, slots: Int, length: Int) -> StartMarks? {
        let address = mmap(nil, length, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)
        guard let address, address != MAP_FAILED else { return nil }
        return StartMarks(base: address, slots: slots, length: length)
    }

    /// A job thread starts job `seq` (0 clears the slot).
    package func mark(slot: Int, seq: UInt64) {
        guard slot >= 0 && slot < slots else { return }
        verk_store_release_u64(base + slot, seq)
    }

    /// The jobs running now (for the supervisor: read after the process died, or was killed).
    package func running() -> [UInt64] {
        (0..<slots).map { verk_load_acquire_u64(base + $0) }.filter { $0 != 0 }
    }
}

package enum StartMarksError: Error, CustomStringConvertible {
    case cannotCreate(Int32)

    package var description: String {
        switch self {
        case .cannotCreate(let e): return "cannot create the shared start marks (memfd/mmap): \(String(cString: strerror(e)))"
        }
    }
}
