import NIOCore
import NIOHTTP1
import NIOPosix

/// The node's HTTP server for Kubernetes' probes and Prometheus' scrapes: swift-nio's HTTP/1 on one
/// event-loop thread of its own, so a slow or stuck client never touches a queue loop. Started by the
/// supervisor once the node runs, shut down after the drain (so `/readyz` says "stopping" meanwhile).
final class HealthServer {
    private let group: MultiThreadedEventLoopGroup
    private let channel: any Channel
    /// The bound port (the one asked for, or the kernel's pick for 0).
    let port: Int

    private init(group: MultiThreadedEventLoopGroup, channel: any Channel) {
        self.group = group
        self.channel = channel
        port = channel.localAddress?.port ?? 0
    }

    /// Binds `host:port` and serves `endpoints`. Throws `HealthServerError` when it cannot bind.
    static func start(host: String, port: Int, endpoints: HealthEndpoints) throws(HealthServerError) -> HealthServer {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 64)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(HealthHTTPHandler(endpoints: endpoints))
                }
            }
        do {
            return HealthServer(group: group, channel: try bootstrap.bind(host: host, port: port).wait())
        } catch {
            try? group.syncShutdownGracefully()
            throw .cannotListen(host: host, port: port, reason: "\(error)")
        }
    }

    /// Stops listening, closes open connections and ends the event-loop thread.
    func shutdown() {
        try? channel.close().wait()
        try? group.syncShutdownGracefully()
    }
}

enum HealthServerError: Error, CustomStringConvertible {
    case cannotListen(host: String, port: Int, reason: String)

    var description: String {
        switch self {
        case .cannotListen(let host, let port, let reason):
            return "cannot serve health and metrics on \(host):\(port) (\(reason)); free the port or set another http_port (VERK_HTTP_PORT)"
        }
    }
}
