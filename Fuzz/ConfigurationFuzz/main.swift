// libFuzzer entry point: the configuration parsers: a JSON file, VERK_* variables, queue lists and Redis URLs.
// See `ConfigurationInvariants` for what is checked. `scripts/fuzz` builds this with --sanitize=fuzzer, where libFuzzer
// supplies `main` and this file is parsed as a library (no top-level code); a normal build compiles it
// into an executable that does nothing, so it cannot rot.
import VerkFuzzInvariants

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    // A trap is how libFuzzer learns of a finding: it saves the input and stops.
    do { try ConfigurationInvariants.check(bytes) } catch { fatalError("\(error)") }
    return 0
}
