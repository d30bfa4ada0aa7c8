import LVSModel
import NIOCore
import NIOPosix

/// tcp: a connection that completes is up (keepalived's TCP_CHECK); it is closed at once.
enum TCPProbe {
    static func run(address: IPAddress, port: UInt16, source: IPAddress?, timeoutMilliseconds: UInt32,
                    on loop: any EventLoop) -> EventLoopFuture<ProbeVerdict> {
        connect(address: address, port: port, source: source, timeoutMilliseconds: timeoutMilliseconds, on: loop,
                onTimeout: .failed("no connection within \(timeoutMilliseconds) ms"), handlers: { _, _ in },
                connected: { $0.finish(.passed("connected")) })
    }

    /// One attempt over a TCP connection, the common part of the tcp, http(s) and smtp probes:
    /// `handlers` fills the new channel's pipeline (with the attempt to report to), and the connected
    /// channel is attached to the attempt, which the timeout or a handler ends.
    static func connect(address: IPAddress, port: UInt16, source: IPAddress?, timeoutMilliseconds: UInt32, on loop: any EventLoop,
                        onTimeout: ProbeVerdict? = nil,
                        handlers: @escaping @Sendable (ChannelPipeline.SynchronousOperations, ProbeAttempt) throws -> Void,
                        connected: @escaping @Sendable (ProbeAttempt) -> Void = { _ in }) -> EventLoopFuture<ProbeVerdict> {
        let attempt = ProbeAttempt(loop: loop, timeoutMilliseconds: timeoutMilliseconds, onTimeout: onTimeout)
        let bound = NIOLoopBound(attempt, eventLoop: loop)
        do {
            try connectionBootstrap(loop: loop, source: source, timeoutMilliseconds: timeoutMilliseconds)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture { try handlers(channel.pipeline.syncOperations, bound.value) }
                }
                .connect(to: address.socketAddress(port: port))
                .whenComplete { result in
                    switch result {
                    case .success(let channel):
                        bound.value.attach(channel)
                        connected(bound.value)
                    case .failure(let error):
                        bound.value.fail(error)
                    }
                }
        } catch {
            attempt.fail(error)
        }
        return attempt.futureResult
    }

    /// A client bootstrap bound to `source` when given. The attempt's timeout decides; NIO's connect
    /// timeout, three times the check's, lets go of a connect nobody waits for any more (and ends one
    /// whose loop fell more than twice the timeout behind).
    static func connectionBootstrap(loop: any EventLoop, source: IPAddress?, timeoutMilliseconds: UInt32) throws -> ClientBootstrap {
        var bootstrap = ClientBootstrap(group: loop).connectTimeout(.milliseconds(3 * Int64(timeoutMilliseconds)))
        if let source { bootstrap = try bootstrap.bind(to: source.socketAddress(port: 0)) }
        return bootstrap
    }
}
