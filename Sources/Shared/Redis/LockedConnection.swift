/// A connection shared between threads by a lock.
/// `@unchecked Sendable` is sound because the connection is private and only reached inside `withLock`,
/// so at most one thread uses the hiredis context at a time.
package final class LockedConnection: @unchecked Sendable {
    private let lock = ThreadLock()
    private let connection: RedisConnection

    package init(_ connection: RedisConnection) { self.connection = connection }

    package func withLock<T>(_ body: (RedisConnection) throws -> T) rethrows -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body(connection)
    }
}
