#if canImport(Glibc)
import Glibc
#endif
import LVSModel
import NIOCore
import NIOPosix
import Shell
import System

/// The daemon's control socket (/run/lvsh/net-INODE/control.sock): fronts send their batches here and
/// the daemon runs them as the one writer. Only root may connect: the folder is root's alone (0700),
/// the socket 0600, and each peer's credentials are checked as it connects.
final class ControlServer: Sendable {
    private let channel: Channel

    private init(channel: Channel) { self.channel = channel }

    /// Listens at `path`, replacing a socket a dead daemon left (the writer lock says none runs).
    static func start(path: String, group: EventLoopGroup,
                      handle: @escaping @Sendable (ControlRequest) async -> ControlReply) async throws -> ControlServer {
        let previous = umask(0o177)
        defer { umask(previous) }
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 64)
            // A front sends its request and shuts its side: the answer still goes back.
            .childChannelOption(.allowRemoteHalfClosure, value: true)
            .childChannelInitializer { child in
                child.eventLoop.makeCompletedFuture {
                    // A front that sends nothing for 30 s holds a descriptor for nothing.
                    try child.pipeline.syncOperations.addHandler(IdleStateHandler(readTimeout: .seconds(30)))
                    try child.pipeline.syncOperations.addHandler(ByteToMessageHandler(FrameDecoder()))
                    try child.pipeline.syncOperations.addHandler(RequestHandler(handle: handle))
                }
            }
            .bind(unixDomainSocketPath: path, cleanupExistingSocketFile: true).get()
        return ControlServer(channel: channel)
    }

    func stop() async {
        try? await channel.close()
    }
}

/// One whole frame (its 4-byte length and payload) per message.
private struct FrameDecoder: ByteToMessageDecoder {
    typealias InboundOut = [UInt8]

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let header = buffer.getBytes(at: buffer.readerIndex, length: 4) else { return .needMoreData }
        let length = try ControlWire.length(header)
        guard let frame = buffer.readBytes(length: 4 + length) else { return .needMoreData }
        context.fireChannelRead(wrapInboundOut(frame))
        return .continue
    }
}

/// Checks the peer, runs its request through the daemon, answers once and closes.
private final class RequestHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = [UInt8]
    typealias OutboundOut = ByteBuffer
    private let handle: @Sendable (ControlRequest) async -> ControlReply
    private var allowed: Bool?

    init(handle: @escaping @Sendable (ControlRequest) async -> ControlReply) { self.handle = handle }

    /// SO_PEERCRED (asm-generic/socket.h), and struct ucred's layout: Glibc hides both without _GNU_SOURCE.
    static let peerCredentials: Int32 = 17
    struct PeerCredentials: Sendable {
        var pid: Int32 = 0
        var uid: UInt32 = 0
        var gid: UInt32 = 0
    }

    func channelActive(context: ChannelHandlerContext) {
        guard let provider = context.channel as? SocketOptionProvider else { return context.close(promise: nil) }
        let loop = context.eventLoop
        let channel = context.channel
        provider.unsafeGetSocketOption(level: SocketOptionLevel(SOL_SOCKET), name: SocketOptionName(Self.peerCredentials))
            .whenComplete { (result: Result<PeerCredentials, Error>) in
                loop.assertInEventLoop()
                switch result {
                case .success(let cred) where cred.uid == 0:
                    self.allowed = true
                default:
                    self.allowed = false
                    let reply = ControlReply(code: LVSError.Code.failed.rawValue, err: "lvsh daemon takes batches from root only\n")
                    channel.writeAndFlush(ByteBuffer(bytes: ControlWire.encode(reply))).whenComplete { _ in channel.close(promise: nil) }
                }
            }
        context.fireChannelActive()
    }

    /// A frame the decoder refused (a length over the limit): say why and hang up.
    func errorCaught(context: ChannelHandlerContext, error: Error) {
        let message = (error as? LVSError)?.message ?? "a malformed message on lvsh's control socket"
        let channel = context.channel
        let reply = ControlReply(code: LVSError.Code.failed.rawValue, err: message + "\n")
        channel.writeAndFlush(ByteBuffer(bytes: ControlWire.encode(reply))).whenComplete { _ in channel.close(promise: nil) }
    }

    /// The front closed its side before a whole frame came, or sent nothing for too long.
    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if !answering, event is IdleStateHandler.IdleStateEvent || (event as? ChannelEvent) == .inputClosed {
            context.close(promise: nil)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    /// Set once a whole request came: its answer is on the way.
    private var answering = false

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        guard allowed == true, !answering else { return }
        answering = true
        let channel = context.channel
        let reply: ControlReply
        let request: ControlRequest
        do throws(LVSError) {
            request = try ControlWire.request(Array(frame.dropFirst(4)))
        } catch {
            reply = ControlReply(code: error.code.rawValue, err: error.message + "\n")
            channel.writeAndFlush(ByteBuffer(bytes: ControlWire.encode(reply))).whenComplete { _ in channel.close(promise: nil) }
            return
        }
        let handle = self.handle
        Task(priority: DaemonService.priority) {
            let reply = await handle(request)
            try? await channel.writeAndFlush(ByteBuffer(bytes: ControlWire.encode(reply)))
            try? await channel.close()
        }
    }
}
