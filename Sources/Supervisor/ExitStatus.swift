import Glibc

/// How a worker process ended, for logs and for the error message of the jobs it took down.
enum ExitStatus: Equatable, CustomStringConvertible {
    case exited(Int32)
    case signaled(Int32)

    init(waitStatus raw: Int32) {
        if raw & 0x7F == 0 { self = .exited((raw >> 8) & 0xFF) } else { self = .signaled(raw & 0x7F) }
    }

    var signal: Int32? { if case .signaled(let s) = self { return s }; return nil }
    var code: Int32? { if case .exited(let c) = self { return c }; return nil }

    var description: String {
        switch self {
        case .exited(let code): return "exited with status \(code)"
        case .signaled(let sig): return "was killed by signal \(sig) (\(ExitStatus.name(of: sig)))"
        }
    }

    static func name(of sig: Int32) -> String {
        switch sig {
        case SIGSEGV: return "SIGSEGV"
        case SIGKILL: return "SIGKILL"
        case SIGABRT: return "SIGABRT"
        case SIGILL: return "SIGILL"
        case SIGBUS: return "SIGBUS"
        case SIGFPE: return "SIGFPE"
        case SIGTERM: return "SIGTERM"
        case SIGTRAP: return "SIGTRAP"
        default: return "signal \(sig)"
        }
    }
}
