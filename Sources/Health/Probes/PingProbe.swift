import Glibc
import LVSModel
import NIOCore
import NIOPosix

/// ping: one ICMP (or ICMPv6) echo, answered within the timeout (keepalived's PING_CHECK).
///
/// The socket is NIO's datagram channel either way: first an unprivileged ping socket
/// (SOCK_DGRAM + IPPROTO_ICMP, allowed by net.ipv4.ping_group_range), through DatagramBootstrap's
/// protocol subtype; where the group range refuses it (its default, "1 0", refuses even root), a raw
/// socket made here with socket(2) (root, CAP_NET_RAW) and handed to DatagramBootstrap.withBoundSocket.
enum PingProbe {
    static func run(address: IPAddress, source: IPAddress?, timeoutMilliseconds: UInt32,
                    on loop: any EventLoop) -> EventLoopFuture<ProbeVerdict> {
        let attempt = ProbeAttempt(loop: loop, timeoutMilliseconds: timeoutMilliseconds)
        let bound = NIOLoopBound(attempt, eventLoop: loop)
        let v6 = address.family == .v6
        let icmp: CInt = v6 ? CInt(IPPROTO_ICMPV6) : CInt(IPPROTO_ICMP)
        let identifier = UInt16.random(in: 0...UInt16.max), sequence = UInt16.random(in: 0...UInt16.max)
        do {
            let local = try (source ?? .zero(address.family)).socketAddress(port: 0)
            let remote = try address.socketAddress(port: 0)
            @Sendable func bootstrap(raw: Bool) -> DatagramBootstrap {
                DatagramBootstrap(group: loop).channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        let handler = PingHandler(remote: remote, v6: v6, raw: raw, identifier: identifier,
                                                  sequence: sequence, attempt: bound.value)
                        try channel.pipeline.syncOperations.addHandler(handler)
                    }
                }
            }
            bootstrap(raw: false).protocolSubtype(.init(rawValue: icmp)).bind(to: local)
                .map { channel -> PingSocket in PingSocket(channel: channel, raw: false) }
                .flatMapError { error -> EventLoopFuture<PingSocket> in
                    guard let e = error as? IOError, [EACCES, EPERM, EPROTONOSUPPORT].contains(e.errnoCode) else {
                        return loop.makeFailedFuture(error)
                    }
                    do {
                        let fd = try rawSocket(family: v6 ? AF_INET6 : AF_INET, protocol: icmp, source: source.map { _ in local })
                        return bootstrap(raw: true).withBoundSocket(fd).map { PingSocket(channel: $0, raw: true) }
                    } catch {
                        return loop.makeFailedFuture(error)
                    }
                }
                .flatMap { socket -> EventLoopFuture<Void> in
                    let channel = socket.channel
                    bound.value.attach(channel)
                    let request = ICMPEcho.request(v6: v6, identifier: identifier, sequence: sequence,
                                                   payload: Array("lvsh-health-ping".utf8))
                    return channel.writeAndFlush(AddressedEnvelope(remoteAddress: remote, data: ByteBuffer(bytes: request)))
                }
                .whenFailure { bound.value.fail($0) }
        } catch {
            attempt.fail(error)
        }
        return attempt.futureResult
    }

    struct PingSocket {
        var channel: any Channel
        var raw: Bool
    }

    /// A raw ICMP socket, bound to `source` when given; NIO makes it non-blocking.
    static func rawSocket(family: CInt, protocol: CInt, source: SocketAddress?) throws -> CInt {
        let fd = socket(family, CInt(SOCK_RAW.rawValue) | CInt(SOCK_CLOEXEC.rawValue), `protocol`)
        guard fd >= 0 else { throw IOError(errnoCode: errno, reason: "socket(SOCK_RAW)") }
        if let source {
            let rc = source.withSockAddr { bind(fd, $0, socklen_t($1)) }
            guard rc == 0 else {
                let e = errno
                close(fd)
                throw IOError(errnoCode: e, reason: "bind")
            }
        }
        return fd
    }
}

/// Waits for the echo reply from the probed address; a raw socket sees every ICMP message of the
/// host, so the rest is ignored.
final class PingHandler: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>

    private let remote: SocketAddress
    private let v6: Bool
    private let raw: Bool
    private let identifier: UInt16
    private let sequence: UInt16
    private let attempt: ProbeAttempt

    init(remote: SocketAddress, v6: Bool, raw: Bool, identifier: UInt16, sequence: UInt16, attempt: ProbeAttempt) {
        self.remote = remote
        self.v6 = v6
        self.raw = raw
        self.identifier = identifier
        self.sequence = sequence
        self.attempt = attempt
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = unwrapInboundIn(data)
        guard envelope.remoteAddress.ipAddress == remote.ipAddress else { return }
        let packet = Array(envelope.data.readableBytesView)
        if ICMPEcho.isReply(packet, v6: v6, includesIPHeader: raw && !v6, identifier: raw ? identifier : nil, sequence: sequence) {
            attempt.finish(.passed("echo reply"))
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        attempt.fail(error)
    }
}
