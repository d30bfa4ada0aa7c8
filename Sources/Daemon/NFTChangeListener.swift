#if canImport(Glibc)
import Glibc
#endif
import Firewall
import Logging
import NIOCore
import NIOPosix

/// Listens to nftables' change notifications and says when another process committed a change to
/// lvsh's table, so that the daemon repairs it at once: IPVS sends no events and is read
/// periodically, nftables does. Each datagram is one read of the socket (NIO's pipe channel, with
/// room for the largest the kernel sends).
enum NFTChangeListener {
    /// Starts listening on `loop`; nil (with a warning) when the kernel refuses, and then drift in the
    /// table waits for the periodic read as drift in IPVS does.
    static func start(on loop: any EventLoop, logger: Logger,
                      changed: @escaping @Sendable (NFTChangeEvents.Commit) -> Void) async -> (any Channel)? {
        let fd: Int32
        do {
            fd = try NFTChangeEvents.openSocket()
        } catch {
            logger.warning("cannot listen to nftables' changes (\(error.message)): drift in table inet lvsh is found by the periodic read only")
            return nil
        }
        do {
            return try await NIOPipeBootstrap(group: loop)
                .channelOption(.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: 64 * 1024))
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(Reader(changed: changed, logger: logger))
                    }
                }
                .takingOwnershipOfDescriptor(input: fd)
                .get()
        } catch {
            close(fd)
            logger.warning("cannot listen to nftables' changes (\(error)): drift in table inet lvsh is found by the periodic read only")
            return nil
        }
    }

    private final class Reader: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        private var events = NFTChangeEvents()
        private let changed: @Sendable (NFTChangeEvents.Commit) -> Void
        private let logger: Logger

        init(changed: @escaping @Sendable (NFTChangeEvents.Commit) -> Void, logger: Logger) {
            self.changed = changed
            self.logger = logger
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let datagram = unwrapInboundIn(data)
            if let commit = datagram.withUnsafeReadableBytes({ events.feed($0) }) { changed(commit) }
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            logger.warning("nftables' change notifications stopped (\(error)): drift in table inet lvsh is found by the periodic read only")
            context.close(promise: nil)
        }
    }
}
