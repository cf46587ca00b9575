import Verk

/// The classes of the jobs in shared/fixtures/peers that are not RecordWorker or FailWorker, so those jobs,
/// pushed as Verk, Exq and Sidekiq 8 wrote them, run here. Both fail with their args in the message: a test
/// reads what the worker was given from the retry entry, and that entry is the one to compare with theirs.
/// No `retryAt`: they wait Sidekiq's backoff (15 s or more), long enough to be looked at.

/// `[message]`: throws `InteropFail: message`, as the worker the Verk and Exq fixtures were captured with did.
struct InteropFail: Worker {
    struct Failure: Error, CustomStringConvertible { let description: String }
    func perform(_ args: [JSONValue], context: JobContext) throws {
        throw Failure(description: "InteropFail: " + (args.first?.stringValue ?? JSONWriter.string(.array(args))))
    }
}

/// Any args: throws `HardJob got ARGS`, ARGS as JSON (Sidekiq's documentation's example class).
struct HardJob: Worker {
    struct Failure: Error, CustomStringConvertible { let description: String }
    func perform(_ args: [JSONValue], context: JobContext) throws {
        throw Failure(description: "HardJob got " + JSONWriter.string(.array(args)))
    }
}
