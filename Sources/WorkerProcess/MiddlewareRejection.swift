import VerkShared

/// Thrown by a server middleware to fail a job without running it: the job takes the failure path with
/// `error_class` `Verk.MiddlewareRejected` and `reason` as its `error_message`.
public struct MiddlewareRejection: Error, Sendable, Equatable, CustomStringConvertible {
    public let reason: String

    public init(_ reason: String) { self.reason = reason }

    public var description: String { reason }
}
