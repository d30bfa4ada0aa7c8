import LVSModel
import NIOCore
import NIOHTTP1
import NIOPosix

/// `metrics listen ADDRESS:PORT`: Prometheus text at GET /metrics (NIO's HTTP/1 server); anything else
/// is 404. Each scrape asks the daemon for a fresh kernel read.
final class MetricsServer: Sendable {
    private let channel: Channel
    let listen: ListenAddress

    private init(channel: Channel, listen: ListenAddress) {
        self.channel = channel
        self.listen = listen
    }

    static func start(_ listen: ListenAddress, group: EventLoopGroup,
                      scrape: @escaping @Sendable () async -> ByteBuffer) async throws -> MetricsServer {
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
    private let scrape: @Sendable () async -> ByteBuffer
    private var head: HTTPRequestHead?

    init(scrape: @escaping @Sendable () async -> ByteBuffer) { self.scrape = scrape }

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
                Self.respond(channel, version: version, keepAlive: keepAlive, status: .notFound,
                             type: "text/plain; charset=utf-8", body: ByteBuffer(string: "lvsh serves /metrics only\n"), headOnly: false)
                return
            }
            let headOnly = head.method == .HEAD
            let scrape = self.scrape
            Task(priority: DaemonService.priority) {
                let body = await scrape()
                Self.respond(channel, version: version, keepAlive: keepAlive, status: .ok,
                             type: "text/plain; version=0.0.4; charset=utf-8", body: body, headOnly: headOnly)
            }
        }
    }

    private static func respond(_ channel: Channel, version: HTTPVersion, keepAlive: Bool, status: HTTPResponseStatus,
                                type: String, body: ByteBuffer, headOnly: Bool) {
        let headers = HTTPHeaders([("Content-Type", type), ("Content-Length", String(body.readableBytes))]
                                  + (keepAlive ? [] : [("Connection", "close")]))
        channel.eventLoop.execute {
            channel.write(HTTPServerResponsePart.head(HTTPResponseHead(version: version, status: status, headers: headers)), promise: nil)
            if !headOnly { channel.write(HTTPServerResponsePart.body(.byteBuffer(body)), promise: nil) }
            channel.writeAndFlush(HTTPServerResponsePart.end(nil)).whenComplete { _ in
                if !keepAlive { channel.close(promise: nil) }
            }
        }
    }
}
