import Dispatch
import Synchronization
import VerkShared

/// Carries `VerkEvent`s from the queue loops to the app's handlers and async sequences without ever
/// stalling a loop: `emit` appends to a bounded buffer under a lock and returns; one dispatcher thread
/// delivers, in emission order. When the buffer is full (handlers slower than the node) the new event is
/// dropped and counted in `droppedEvents`; an `events` sequence whose consumer falls `capacity` events
/// behind drops its newest events the same way. With no handler and no sequence, `emit` costs one atomic load.
public final class EventBus: Sendable {
    public static let capacity = 10_000

    private struct State {
        var buffer: [VerkEvent] = []
        var handlers: [@Sendable (VerkEvent) -> Void] = []
        var streams: [Int: AsyncStream<VerkEvent>.Continuation] = [:]
        var nextStream = 0
        var dispatcherStarted = false
    }

    private let state = Mutex(State())
    private let wake = DispatchSemaphore(value: 0)
    private let subscribers = Atomic<Int>(0)
    private let dropped = Atomic<Int>(0)

    public init() {}

    /// Events lost to a full buffer since the node started.
    public var droppedEvents: Int { dropped.load(ordering: .relaxed) }

    /// Calls `handler` on the dispatcher thread for every later event. Keep it quick: while it runs, the
    /// buffer fills.
    public func onEvent(_ handler: @escaping @Sendable (VerkEvent) -> Void) {
        state.withLock { $0.handlers.append(handler) }
        subscribers.add(1, ordering: .relaxed)
        startDispatcher()
    }

    /// Every event from now until the node stops, as an async sequence.
    public func events() -> AsyncStream<VerkEvent> {
        let (stream, continuation) = AsyncStream.makeStream(of: VerkEvent.self, bufferingPolicy: .bufferingOldest(Self.capacity))
        let id = state.withLock { s in
            s.nextStream += 1
            s.streams[s.nextStream] = continuation
            return s.nextStream
        }
        subscribers.add(1, ordering: .relaxed)
        continuation.onTermination = { [weak self] _ in
            guard let self else { return }
            self.state.withLock { _ = $0.streams.removeValue(forKey: id) }
            self.subscribers.subtract(1, ordering: .relaxed)
        }
        startDispatcher()
        return stream
    }

    /// Whether anyone listens: callers skip building an event nobody would see.
    var isObserved: Bool { subscribers.load(ordering: .relaxed) > 0 }

    func emit(_ event: VerkEvent) {
        guard isObserved else { return }
        let accepted = state.withLock { s -> Bool in
            guard s.buffer.count < Self.capacity else { return false }
            s.buffer.append(event)
            return true
        }
        if accepted { wake.signal() } else { dropped.add(1, ordering: .relaxed) }
    }

    /// Ends every `events()` sequence (the node stopped), after delivering what is buffered.
    func finish() {
        deliverPending()
        let streams = state.withLock { s in
            let all = Array(s.streams.values)
            s.streams.removeAll()
            return all
        }
        for continuation in streams { continuation.finish() }
    }

    private func startDispatcher() {
        let start = state.withLock { s in
            defer { s.dispatcherStarted = true }
            return !s.dispatcherStarted
        }
        guard start else { return }
        OSThread.start(name: "verk-events") { [self] in
            while true {
                wake.wait()
                deliverPending()
            }
        }
    }

    private func deliverPending() {
        let (events, handlers, streams) = state.withLock { s in
            let events = s.buffer
            s.buffer.removeAll(keepingCapacity: true)
            return (events, s.handlers, Array(s.streams.values))
        }
        for event in events {
            for handler in handlers { handler(event) }
            for continuation in streams {
                if case .dropped = continuation.yield(event) { dropped.add(1, ordering: .relaxed) }
            }
        }
    }
}
