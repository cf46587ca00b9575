import ArgumentParser
import VerkShared
import Foundation

// A write to a closed pipe (`verk … | head`) must be an error, not death by SIGPIPE.
signal(SIGPIPE, SIG_IGN)

/// `verk --redis-url URL stats` reads naturally, but the options belong to each subcommand: move global
/// options given before the subcommand to the end, where every subcommand accepts them.
func normalizedArguments(_ args: [String]) -> [String] {
    var rest = args[...]
    var globals: [String] = []
    while let first = rest.first, first.hasPrefix("--redis-url") || first.hasPrefix("--namespace") {
        globals.append(rest.removeFirst())
        if !first.contains("="), let value = rest.first {
            globals.append(value)
            rest.removeFirst()
        }
    }
    return Array(rest) + globals
}

// A --redis-url password leaves the process list once the arguments are read (they keep their own copy).
CommandLineSecrets.hidePasswordsInProcessList()

do {
    var command = try VerkCommand.parseAsRoot(normalizedArguments(Array(CommandLine.arguments.dropFirst())))
    try command.run()
} catch {
    let code = VerkCommand.exitCode(for: error)
    if code == .success {
        print(VerkCommand.fullMessage(for: error))
        exit(0)
    }
    // One clear line on stderr: the first line of the message (usage text is one `--help` away).
    let message = VerkCommand.message(for: error).split(separator: "\n").first.map(String.init) ?? "\(error)"
    FileHandle.standardError.write(Data("verk: \(message)\n".utf8))
    exit(code == .validationFailure ? 64 : code.rawValue == 0 ? 1 : code.rawValue)
}
