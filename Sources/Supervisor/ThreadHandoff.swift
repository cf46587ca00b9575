/// Moves a thread-confined value (a queue manager with its hiredis connection) from the thread that built
/// it to the one thread that will own it. `@unchecked Sendable` is sound because the creator gives up the
/// value at the hand-off and never touches it again: at any time exactly one thread uses it.
struct ThreadHandoff<Value>: @unchecked Sendable {
    let value: Value
}
