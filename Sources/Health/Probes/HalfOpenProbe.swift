import Glibc
import LVSModel
import NIOCore
import NIOPosix

/// tcp with `handshake half`: a SYN from a raw socket; a SYN-ACK is up, a RST down, silence down at
/// the timeout. The kernel, which knows no socket for the answer, ends the handshake with a RST, so
/// nothing reaches the application (F5's TCP half-open monitor, `nmap -sS`).
///
/// One raw socket per event loop, address family and source serves every probe, through NIO's
/// datagram channel (`DatagramBootstrap.withBoundSocket`): the SYNs of one turn of the loop leave
/// in one `sendmmsg`, answers come in `recvmmsg` batches, and a socket filter keeps the host's other
/// TCP traffic out. A connect costs about fifteen system calls and a channel; a half-open check
/// costs a share of two. All answers come to one source port, held by a bound TCP socket that never
/// listens (so that no other socket takes it and the kernel answers SYN-ACKs with RST); the
/// answer's acknowledgement number tells which SYN it answers.
final class HalfOpenProber: @unchecked Sendable {
    // Everything below is touched only on `loop`.
    let loop: any EventLoop
    private var sockets: [SocketKey: RawSocket] = [:]
    private var pending: [Target: [Pending]] = [:]
    /// The source address the kernel picks for each destination (the TCP checksum covers it).
    private var routes: [IPAddress: (source: IPAddress, until: NIODeadline)] = [:]
    private var flushScheduled: Set<SocketKey> = []

    init(loop: any EventLoop) { self.loop = loop }

    private struct SocketKey: Hashable {
        var family: IPAddress.Family
        var source: IPAddress?
    }
    private struct Target: Hashable {
        var address: IPAddress
        var port: UInt16
    }
    private struct Pending {
        var sequence: UInt32
        var attempt: ProbeAttempt
    }
    private enum RawSocket {
        case opening(port: UInt16, waiting: [(IPAddress, [UInt8])])
        case open(port: UInt16, channel: any Channel)

        var port: UInt16 {
            switch self {
            case .opening(let port, _), .open(let port, _): port
            }
        }
    }

    private var sequences: UInt64 = 0

    /// A SYN's sequence number, which an answer must acknowledge: SipHash (Swift's `Hasher`, keyed at
    /// random per process) of a counter and the target, so that one who sees some SYNs cannot
    /// predict the next and forge an answer; `UInt32.random` costs a getrandom(2) each time.
    private func nextSequence(for target: Target) -> UInt32 {
        sequences &+= 1
        var h = Hasher()
        h.combine(sequences)
        h.combine(target)
        return UInt32(truncatingIfNeeded: h.finalize())
    }

    /// How long a looked-up source address is trusted; a probe that fails looks it up again.
    static let routeLifetime = TimeAmount.seconds(60)

    func run(address: IPAddress, port: UInt16, source: IPAddress?, timeoutMilliseconds: UInt32) -> EventLoopFuture<ProbeVerdict> {
        loop.preconditionInEventLoop()
        let attempt = ProbeAttempt(loop: loop, timeoutMilliseconds: timeoutMilliseconds,
                                   onTimeout: .failed("no SYN-ACK within \(timeoutMilliseconds) ms"))
        let target = Target(address: address, port: port)
        let key = SocketKey(family: address.family, source: source)
        let from: IPAddress, ourPort: UInt16
        do {
            from = try source ?? route(to: address)
        } catch {
            attempt.fail(error)
            return attempt.futureResult
        }
        do {
            ourPort = try socket(key).port
        } catch {
            // Not kept: a source address configured later, or the capability given later, serves the
            // next run.
            let refused = (error as? IOError).map { [EPERM, EACCES].contains($0.errnoCode) } ?? false
            attempt.finish(.failed("half-open check: \(ProbeErrors.describe(error))" + (refused ? " (it needs root: CAP_NET_RAW)" : "")))
            return attempt.futureResult
        }
        let sequence = nextSequence(for: target)
        let syn = TCPSegment.syn(source: from, sourcePort: ourPort, destination: address, port: port, sequence: sequence)
        pending[target, default: []].append(Pending(sequence: sequence, attempt: attempt))
        send(syn, to: address, on: key)
        let bound = NIOLoopBound(attempt, eventLoop: loop)
        // The kernel's connect sends the SYN again after 1 s and 3 s; so does this.
        let timers = LoopTimers.of(loop)
        for after in [1000, 3000] where after < timeoutMilliseconds {
            timers.schedule(at: timers.now + .milliseconds(Int64(after))) { _ in
                guard !bound.value.isDone else { return }
                self.send(syn, to: address, on: key)
            }
        }
        return attempt.futureResult.map { verdict in
            self.pending[target]?.removeAll { $0.attempt === bound.value }
            if self.pending[target]?.isEmpty == true { self.pending[target] = nil }
            if !verdict.ok { self.routes[address] = nil }
            return verdict
        }
    }

    /// The source address of the route to `address`: a UDP socket connected there says which.
    private func route(to address: IPAddress) throws -> IPAddress {
        if let r = routes[address], r.until > LoopTimers.of(loop).now { return r.source }
        let fd = Glibc.socket(address.family == .v6 ? AF_INET6 : AF_INET, CInt(SOCK_DGRAM.rawValue) | CInt(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw IOError(errnoCode: errno, reason: "socket") }
        defer { close(fd) }
        let remote = try address.socketAddress(port: 9)
        guard remote.withSockAddr({ connect(fd, $0, socklen_t($1)) }) == 0 else { throw IOError(errnoCode: errno, reason: "connect") }
        let source = try Self.localAddress(fd).address
        // Spread over half a lifetime more, so that 1,000 destinations looked up together do not all
        // expire together.
        let spread = Int64(nextSequence(for: Target(address: address, port: 0)) % 30_000)
        routes[address] = (source, loop.now + Self.routeLifetime + .milliseconds(spread))
        return source
    }

    /// The raw socket for `key`, opening it on first use (its SYNs wait until NIO has it).
    private func socket(_ key: SocketKey) throws -> RawSocket {
        if let s = sockets[key] { return s }
        let v6 = key.family == .v6
        let port = try reservePort(key)
        let fd = try PingProbe.rawSocket(family: v6 ? AF_INET6 : AF_INET, protocol: CInt(IPPROTO_TCP),
                                         source: key.source.map { try $0.socketAddress(port: 0) })
        do {
            try Self.attachFilter(fd, TCPSegment.filter(port: port, includesIPHeader: !v6))
        } catch {
            close(fd)
            throw error
        }
        let made = RawSocket.opening(port: port, waiting: [])
        sockets[key] = made
        DatagramBootstrap(group: loop)
            // NIO splits one receive buffer among a vector read's messages: 32 of 128 bytes
            // hold any answer's IP and TCP headers (at most 60 bytes each).
            .channelOption(.datagramVectorReadMessageCount, value: 32)
            .channelOption(.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: 32 * 128))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(HalfOpenHandler(prober: self, port: port, v6: v6))
                }
            }
            .withBoundSocket(fd)
            .hop(to: loop)
            .whenComplete { result in self.opened(key, port: port, result) }
        return made
    }

    private func opened(_ key: SocketKey, port: UInt16, _ result: Result<any Channel, any Error>) {
        guard case .opening(_, let waiting) = sockets[key] else { return }
        switch result {
        case .success(let channel):
            sockets[key] = .open(port: port, channel: channel)
            channel.closeFuture.hop(to: loop).whenComplete { _ in
                // Closed under us (an error NIO found fatal): the next probe opens another.
                if case .open(_, let c) = self.sockets[key], c === channel { self.sockets[key] = nil }
            }
            for (address, syn) in waiting { send(syn, to: address, on: key) }
        case .failure(let error):
            sockets[key] = nil
            let why = "half-open check: \(ProbeErrors.describe(error))"
            for (address, _) in waiting { answer(address: address, reply: nil, failure: why) }
        }
    }

    private func send(_ syn: [UInt8], to address: IPAddress, on key: SocketKey) {
        switch sockets[key] {
        case .opening(let port, var waiting):
            waiting.append((address, syn))
            sockets[key] = .opening(port: port, waiting: waiting)
        case .open(_, let channel):
            guard let remote = try? address.socketAddress(port: 0) else { return }
            channel.write(AddressedEnvelope(remoteAddress: remote, data: ByteBuffer(bytes: syn)), promise: nil)
            // The SYNs of one turn leave together, in one sendmmsg.
            guard flushScheduled.insert(key).inserted else { return }
            loop.execute {
                self.flushScheduled.remove(key)
                channel.flush()
            }
        case nil:
            break
        }
    }

    /// An answer read from the raw socket of `family` (or a failure for every probe of `address`).
    func answer(address: IPAddress, reply: TCPSegment.Reply?, failure: String? = nil) {
        guard let reply else {
            for p in pending.filter({ $0.key.address == address }).values.joined() { p.attempt.finish(.failed(failure ?? "no answer")) }
            return
        }
        guard let waiting = pending[Target(address: address, port: reply.sourcePort)],
              let p = waiting.first(where: { $0.sequence &+ 1 == reply.acknowledgement }) else { return }
        switch reply.answer {
        case .synAck: p.attempt.finish(.passed("SYN-ACK"))
        case .reset: p.attempt.finish(.failed("connection refused"))
        }
    }

    /// Holds a source port for the prober's answers: a TCP socket bound to it that never listens.
    private var reservations: [SocketKey: CInt] = [:]

    private func reservePort(_ key: SocketKey) throws -> UInt16 {
        let fd = Glibc.socket(key.family == .v6 ? AF_INET6 : AF_INET, CInt(SOCK_STREAM.rawValue) | CInt(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw IOError(errnoCode: errno, reason: "socket") }
        let local = try (key.source ?? .zero(key.family)).socketAddress(port: 0)
        guard local.withSockAddr({ bind(fd, $0, socklen_t($1)) }) == 0 else {
            let e = errno
            close(fd)
            throw IOError(errnoCode: e, reason: "bind")
        }
        let port: UInt16
        do {
            port = try Self.localAddress(fd).port
        } catch {
            close(fd)
            throw error
        }
        if let old = reservations[key] { close(old) }
        reservations[key] = fd
        return port
    }

    /// The address and port a socket is bound to.
    private static func localAddress(_ fd: CInt) throws -> (address: IPAddress, port: UInt16) {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let rc = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard rc == 0 else { throw IOError(errnoCode: errno, reason: "getsockname") }
        let address: SocketAddress
        switch CInt(storage.ss_family) {
        case AF_INET:
            address = SocketAddress(withUnsafeBytes(of: &storage) { $0.load(as: sockaddr_in.self) }, host: "")
        case AF_INET6:
            address = SocketAddress(withUnsafeBytes(of: &storage) { $0.load(as: sockaddr_in6.self) }, host: "")
        default:
            throw IOError(errnoCode: EAFNOSUPPORT, reason: "getsockname")
        }
        guard let ip = IPAddress(address), let port = address.port else { throw IOError(errnoCode: EAFNOSUPPORT, reason: "getsockname") }
        return (ip, UInt16(port))
    }

    /// linux/filter.h's sock_fprog, which Glibc's module does not bring: a length and a pointer to
    /// 8-byte instructions (code u16, jt u8, jf u8, k u32, host order).
    private struct SocketFilterProgram {
        var length: UInt16
        var instructions: UnsafeMutableRawPointer?
    }

    private static func attachFilter(_ fd: CInt, _ program: [(code: UInt16, jt: UInt8, jf: UInt8, k: UInt32)]) throws {
        var bytes: [UInt8] = []
        for i in program {
            withUnsafeBytes(of: i.code) { bytes += $0 }
            bytes += [i.jt, i.jf]
            withUnsafeBytes(of: i.k) { bytes += $0 }
        }
        let rc = bytes.withUnsafeMutableBytes { buffer -> CInt in
            var prog = SocketFilterProgram(length: UInt16(program.count), instructions: buffer.baseAddress)
            return setsockopt(fd, SOL_SOCKET, 26 /* SO_ATTACH_FILTER */, &prog, socklen_t(MemoryLayout<SocketFilterProgram>.size))
        }
        guard rc == 0 else { throw IOError(errnoCode: errno, reason: "SO_ATTACH_FILTER") }
    }
}

/// Reads a half-open prober's raw socket and hands each SYN-ACK or RST to it.
final class HalfOpenHandler: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>

    private let prober: HalfOpenProber
    private let port: UInt16
    private let v6: Bool

    init(prober: HalfOpenProber, port: UInt16, v6: Bool) {
        self.prober = prober
        self.port = port
        self.v6 = v6
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = unwrapInboundIn(data)
        guard let address = IPAddress(envelope.remoteAddress),
              let reply = TCPSegment.reply(envelope.data.readableBytesView, includesIPHeader: !v6),
              reply.destinationPort == port else { return }
        prober.answer(address: address, reply: reply)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // A raw socket reports no ICMP errors unless asked to; a read error is not the probes'.
    }
}
