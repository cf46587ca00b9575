import Glibc

/// Keeps Redis passwords out of the process list. `ps` and `/proc/PID/cmdline` read a process's argument
/// memory, so a password given on the command line (`--redis-url redis://:pw@host`) is overwritten there,
/// in place, once the program has read its arguments; worker processes, which never talk to Redis, are
/// given the arguments with passwords masked and no `VERK_REDIS_URL` at all.
package enum CommandLineSecrets {
    /// Variables a worker process must not inherit: they carry the Redis password, and it has no use for it.
    package static let supervisorOnlyVariables = ["VERK_REDIS_URL"]

    /// Masks, in this process's own argument memory, the password of every URL among its arguments. Swift's
    /// `CommandLine.arguments` keeps its own copy, read here first, so the program still sees the real values.
    package static func hidePasswordsInProcessList() {
        _ = CommandLine.arguments
        for i in 1..<Int(CommandLine.argc) {
            guard let arg = CommandLine.unsafeArgv[i] else { continue }
            let count = strlen(arg)
            let bytes = UnsafeMutableBufferPointer(start: UnsafeMutableRawPointer(arg).assumingMemoryBound(to: UInt8.self), count: count)
            for range in passwordRanges(in: Array(bytes)) {
                for j in range { bytes[j] = UInt8(ascii: "*") }
            }
        }
    }

    /// The arguments with every URL password masked, for a child process.
    package static func redacted(_ arguments: [String]) -> [String] {
        arguments.map { arg in
            var bytes = Array(arg.utf8)
            let ranges = passwordRanges(in: bytes)
            guard !ranges.isEmpty else { return arg }
            for range in ranges { for j in range { bytes[j] = UInt8(ascii: "*") } }
            return String(decoding: bytes, as: UTF8.self)
        }
    }

    /// Where passwords sit in `text`: the part after `:` in a URL's `user:password@`, and the value of any
    /// query parameter whose name contains `password`.
    static func passwordRanges(in text: [UInt8]) -> [Range<Int>] {
        var ranges: [Range<Int>] = []
        var searchFrom = 0
        while let scheme = find(Array("://".utf8), in: text, from: searchFrom) {
            let authorityStart = scheme + 3
            let authorityEnd = text[authorityStart...].firstIndex { $0 == UInt8(ascii: "/") || $0 == UInt8(ascii: "?") || $0 == UInt8(ascii: " ") } ?? text.count
            if let at = text[authorityStart..<authorityEnd].lastIndex(of: UInt8(ascii: "@")),
               let colon = text[authorityStart..<at].firstIndex(of: UInt8(ascii: ":")), colon + 1 < at {
                ranges.append(colon + 1..<at)
            }
            if let query = text[authorityStart...].firstIndex(of: UInt8(ascii: "?")) {
                var start = query + 1
                while start < text.count {
                    let end = text[start...].firstIndex { $0 == UInt8(ascii: "&") || $0 == UInt8(ascii: " ") } ?? text.count
                    if let equals = text[start..<end].firstIndex(of: UInt8(ascii: "=")),
                       String(decoding: text[start..<equals], as: UTF8.self).lowercased().contains("password"), equals + 1 < end {
                        ranges.append(equals + 1..<end)
                    }
                    guard end < text.count, text[end] == UInt8(ascii: "&") else { break }
                    start = end + 1
                }
            }
            searchFrom = authorityStart
        }
        return ranges
    }

    private static func find(_ needle: [UInt8], in haystack: [UInt8], from start: Int) -> Int? {
        guard haystack.count >= needle.count, start <= haystack.count - needle.count else { return nil }
        for i in start...(haystack.count - needle.count) where haystack[i..<i + needle.count].elementsEqual(needle) { return i }
        return nil
    }
}
