import LVSModel
import NIOCore
import NIOHTTP1
import NIOPosix

/// `metrics listen ADDRESS:PORT`: Prometheus text at GET /metrics (NIO's HTTP/1 server); anything else
/// is 404. Each scrape asks the daemon for a fresh kernel read, and its text goes out as it is made:
/// in chunks to HTTP/1.1 (Prometheus), ended by closing the connection for HTTP/1.0.
final class MetricsServer: Sendable {
    private let channel: Channel
    let listen: ListenAddress

    private init(channel: Channel, listen: ListenAddress) {
        self.channel = channel
        self.listen = listen
    }

    static func start(_ listen: ListenAddress, group: EventLoopGroup,
                      scrape: @escaping @Sendable (@escaping ScrapeSink) async -> Void) async throws -> MetricsServer {
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 64)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { child in
                child.eventLoop.makeCompletedFuture {
                    try child.pipeline.syncOperations.configureHTTPServerPipeline()
                    try child.pipeline.syncOperations.addHandler(ScrapeHandler(scrape: scrape))
                }
            }
            .bind(host: listen.address.description, port: Int(listen.port)).get()
        return MetricsServer(channel: channel, listen: listen)
    }

    func stop() async {
        try? await channel.close()
    }
}

/// One HTTP request at a time: the head decides, the end answers.
final class ScrapeHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart
    private let scrape: @Sendable (@escaping ScrapeSink) async -> Void
    private var head: HTTPRequestHead?

    init(scrape: @escaping @Sendable (@escaping ScrapeSink) async -> Void) { self.scrape = scrape }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let h):
            head = h
        case .body:
            break
        case .end:
            guard let head else { return }
            self.head = nil
            let channel = context.channel
            let path = head.uri.split(separator: "?").first.map(String.init) ?? head.uri
            let version = head.version
            let keepAlive = head.isKeepAlive
            guard head.method == .GET || head.method == .HEAD, path == "/metrics" else {
                Self.notFound(channel, version: version, keepAlive: keepAlive)
                return
            }
            let headOnly = head.method == .HEAD
            // Without a length (the text is written as it is made), HTTP/1.0's body ends with the connection.
            let close = !keepAlive || (version.major == 1 && version.minor == 0)
            let scrape = self.scrape
            Task(priority: DaemonService.priority) {
                let headers = HTTPHeaders([("Content-Type", "text/plain; version=0.0.4; charset=utf-8")] + (close ? [("Connection", "close")] : []))
                guard await Self.send(channel, .head(HTTPResponseHead(version: version, status: .ok, headers: headers))) else { return }
                if !headOnly { await scrape { part in await Self.send(channel, .body(.byteBuffer(part))) } }
                if await Self.send(channel, .end(nil)), !close { return }
                try? await channel.close()
            }
        }
    }

    /// Writes one part and waits until it is on its way; false when the connection is gone. A
    /// reader that stops reading for `stallLimit` is cut off: the scrape would otherwise wait for it
    /// for ever, holding its copy of the kernel's table (about 2 MB at 10,000 real servers).
    static func send(_ channel: Channel, _ part: HTTPServerResponsePart, stallLimit: TimeAmount = ScrapeHandler.stallLimit) async -> Bool {
        let written = channel.eventLoop.makePromise(of: Void.self)
        channel.writeAndFlush(part, promise: written)
        let cutOff = channel.eventLoop.scheduleTask(in: stallLimit) { channel.close(promise: nil) }
        defer { cutOff.cancel() }
        do {
            try await written.futureResult.get()
            return true
        } catch {
            return false
        }
    }

    /// How long one part of a scrape may wait for its reader.
    static let stallLimit = TimeAmount.seconds(30)

    private static func notFound(_ channel: Channel, version: HTTPVersion, keepAlive: Bool) {
        let body = ByteBuffer(string: "lvsh serves /metrics only\n")
        let headers = HTTPHeaders([("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", String(body.readableBytes))]
                                  + (keepAlive ? [] : [("Connection", "close")]))
        channel.eventLoop.execute {
            channel.write(HTTPServerResponsePart.head(HTTPResponseHead(version: version, status: .notFound, headers: headers)), promise: nil)
            channel.write(HTTPServerResponsePart.body(.byteBuffer(body)), promise: nil)
            channel.writeAndFlush(HTTPServerResponsePart.end(nil)).whenComplete { _ in
                if !keepAlive { channel.close(promise: nil) }
            }
        }
    }
}
