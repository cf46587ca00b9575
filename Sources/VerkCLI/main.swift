import ArgumentParser
import Foundation

// A write to a closed pipe (`verk … | head`) must be an error, not death by SIGPIPE.
signal(SIGPIPE, SIG_IGN)

do {
    var command = try VerkCommand.parseAsRoot()
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
