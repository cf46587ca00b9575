import Verk

/// Fails on its first run and succeeds on its retry, which comes at once (Verk's `retry_at`): the whole
/// fail → retry → succeed path in well under a second.
struct FlakyWorker: Worker {
    struct FirstRunFailure: Error, CustomStringConvertible { let description = "FlakyWorker fails its first run on purpose" }
    static func retryAt(failedAt: Double, retryCount: Int) -> Double? { failedAt }
    func perform(_ args: [JSONValue], context: JobContext) throws {
        if context.retryCount == nil { throw FirstRunFailure() }
    }
}
