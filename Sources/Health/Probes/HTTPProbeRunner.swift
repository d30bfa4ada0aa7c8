import LVSModel
import NIOCore
import NIOEmbedded
import NIOHTTP1
import NIOPosix
import NIOSSL

/// http and https: one GET with NIO's HTTP/1.1 codec (and NIOSSL for https), judged by
/// `HTTPExpectation` (keepalived's HTTP_GET and SSL_GET).
enum HTTPProbeRunner {
    /// Bodies beyond this are not read: a health page is small, and the probe must not hold megabytes.
    static let bodyLimit = 1 << 20

    static func run(_ probe: HTTPProbe, address: IPAddress, port: UInt16, source: IPAddress?, timeoutMilliseconds: UInt32,
                    tls: NIOSSLContext?, on loop: any EventLoop) -> EventLoopFuture<ProbeVerdict> {
        let host = probe.host ?? hostHeader(address: address, port: port, tls: probe.tls != nil)
        // SNI carries a name, never an address (RFC 6066 §3); NIOSSL refuses one.
        let sni = (probe.tls?.sni ?? probe.host).flatMap { IPAddress($0) == nil ? $0 : nil }
        return TCPProbe.connect(address: address, port: port, source: source, timeoutMilliseconds: timeoutMilliseconds, on: loop) { pipeline, attempt in
            if let tls { try pipeline.addHandler(NIOSSLClientHandler(context: tls, serverHostname: sni)) }
            try pipeline.addHTTPClientHandlers()
            try pipeline.addHandler(HTTPCheckHandler(probe: probe, host: host, attempt: attempt))
        }
    }

    /// Plain http over the loop's io_uring connector; nil when it cannot take the probe.
    static func run(_ probe: HTTPProbe, address: IPAddress, port: UInt16, timeoutMilliseconds: UInt32,
                    on connector: RingConnector) -> EventLoopFuture<ProbeVerdict>? {
        let host = probe.host ?? hostHeader(address: address, port: port, tls: false)
        let attempt = ProbeAttempt(loop: connector.loop, timeoutMilliseconds: timeoutMilliseconds)
        guard let exchange = try? HTTPRingExchange(probe, host: host, attempt: attempt) else { return nil }
        let future = connector.run(address: address, port: port, timeoutMilliseconds: timeoutMilliseconds, exchange: exchange,
                                   attempt: { attempt })
        // Not taken (the caller uses a channel instead): end this attempt unseen.
        if future == nil {
            attempt.finish(.failed("not started"))
            exchange.end()
        }
        return future
    }

    /// The Host header when the check names none: the address, with the port when not the scheme's.
    static func hostHeader(address: IPAddress, port: UInt16, tls: Bool) -> String {
        let text = address.family == .v6 ? "[\(address)]" : "\(address)"
        return port == (tls ? 443 : 80) ? text : "\(text):\(port)"
    }

    /// The request line and headers of a check.
    static func requestHead(_ probe: HTTPProbe, host: String) -> HTTPRequestHead {
        var head = HTTPRequestHead(version: .http1_1, method: .GET, uri: probe.path.isEmpty ? "/" : probe.path)
        head.headers.add(name: "Host", value: host)
        head.headers.add(name: "User-Agent", value: "lvsh-health")
        head.headers.add(name: "Accept", value: "*/*")
        head.headers.add(name: "Connection", value: "close")
        return head
    }
}

/// Sends the request when the connection is up and judges the answer as it comes.
final class HTTPCheckHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundOut = HTTPClientRequestPart

    private let probe: HTTPProbe
    private let host: String
    private let attempt: ProbeAttempt
    private var status: UInt16?
    private var body: [UInt8] = []

    init(probe: HTTPProbe, host: String, attempt: ProbeAttempt) {
        self.probe = probe
        self.host = host
        self.attempt = attempt
    }

    func channelActive(context: ChannelHandlerContext) {
        context.write(wrapOutboundOut(.head(HTTPProbeRunner.requestHead(probe, host: host))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            status = UInt16(clamping: head.status.code)
            if !HTTPExpectation.needsBody(probe) { judge() }
        case .body(let buffer):
            guard body.count + buffer.readableBytes <= HTTPProbeRunner.bodyLimit else {
                attempt.finish(.failed("status \(status ?? 0), body longer than \(HTTPProbeRunner.bodyLimit) bytes"))
                return
            }
            body += buffer.readableBytesView
        case .end:
            judge()
        }
    }

    private func judge() {
        guard let status else { return }
        let (ok, reason) = HTTPExpectation.evaluate(probe, status: status, body: body)
        attempt.finish(ProbeVerdict(ok: ok, reason: reason))
    }

    func channelInactive(context: ChannelHandlerContext) {
        attempt.finish(.failed(status == nil ? "connection closed before an answer" : "connection closed during the body"))
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        attempt.fail(error)
    }
}

/// http over a `RingConnector`'s connection: NIO's HTTP/1.1 codec and `HTTPCheckHandler` on an
/// `EmbeddedChannel`, which makes the request's bytes and reads the answer's as the socket gets them.
final class HTTPRingExchange: RingExchange {
    private let channel = EmbeddedChannel()
    let request: [UInt8]

    init(_ probe: HTTPProbe, host: String, attempt: ProbeAttempt) throws {
        try channel.pipeline.syncOperations.addHTTPClientHandlers()
        try channel.pipeline.syncOperations.addHandler(HTTPCheckHandler(probe: probe, host: host, attempt: attempt))
        // Active, the check handler writes its request, which the encoder turns into bytes.
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 80)).wait()
        var bytes: [UInt8] = []
        while let part = try channel.readOutbound(as: IOData.self) {
            if case .byteBuffer(let buffer) = part { bytes += buffer.readableBytesView }
        }
        request = bytes
    }

    func received(_ bytes: UnsafeRawBufferPointer) {
        _ = try? channel.writeInbound(ByteBuffer(bytes: bytes))
    }

    func closed() {
        // As a socket channel would: the decoder ends a body that runs to the close, then the check
        // handler judges or says the connection closed.
        channel.close(promise: nil)
    }

    func end() {
        _ = try? channel.finish(acceptAlreadyClosed: true)
    }
}
