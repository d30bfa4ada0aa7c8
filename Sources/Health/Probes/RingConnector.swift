import CNetlink
import Glibc
import IOURing
import LVSModel
import NIOCore
import NIOPosix

/// tcp (a full connect, keepalived's TCP_CHECK) through io_uring: each probe is a socket made into a
/// registered file slot and a connect linked to it, and the connects of one turn of the loop go to
/// the kernel in one system call. A completed connect is up, a refused or unreachable one down; the
/// slot is closed with the next submission.
///
/// Why not NIO's socket channel, as the other kinds: a channel costs about two dozen system calls
/// per connection (socket, connect, epoll_ctl three or four times, getsockname three times,
/// getpeername, clock_gettime, close), and in the user-mode-linux lab, where a system call is dear,
/// 1,000 connects a second cost lvsh 1.2–1.9× keepalived's CPU. Here a probe costs a share of one
/// io_uring_enter and of the eventfd wake-ups that report completions (read through NIO's pipe
/// channel). Probes that bind a source address, and every probe where io_uring lacks what this
/// needs (Linux before 5.19), take the channel.
final class RingConnector: @unchecked Sendable {
    // Everything below is touched only on `loop`.
    let loop: any EventLoop
    private let ring: IOURing?
    private let capacity: UInt32
    private var slots: [Slot?]
    private var free: [UInt32]
    /// Each slot's socket address, alive until its connect completes.
    private let addresses: UnsafeMutableRawPointer
    private var generation: UInt32 = 0
    private var flushQueued = false
    private var closeFlushArmed = false

    private static let addressStride = 32

    private struct Slot {
        var attempt: ProbeAttempt
        var generation: UInt32
        var socketError: Int32?
        var cancelled = false
    }

    /// What a completion is for: the low bits of its user data.
    private enum Kind: UInt64 {
        case socket = 0, connect = 1, close = 2, cancel = 3
    }

    /// A connector with `capacity` connections in flight at most (beyond, probes take the channel);
    /// the registered slots count against the open-file limit, so at most a quarter of it.
    init(loop: any EventLoop, capacity wanted: UInt32 = 4096) {
        self.loop = loop
        var limit = rlimit()
        let files = getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 ? limit.rlim_cur : 1024
        let capacity = UInt32(clamping: max(16, min(UInt64(wanted), UInt64(files) / 4)))
        self.capacity = capacity
        slots = []
        free = []
        addresses = UnsafeMutableRawPointer.allocate(byteCount: Int(capacity) * Self.addressStride, alignment: 8)
        ring = Self.openRing(capacity: capacity)
        guard let ring else { return }
        let eventFD = lvsh_eventfd()
        guard eventFD >= 0, ring.registerEventFD(eventFD) else {
            if eventFD >= 0 { close(eventFD) }
            ring.close()
            return
        }
        slots = Array(repeating: nil, count: Int(capacity))
        free = Array((0..<capacity).reversed())
        let bound = NIOLoopBound(self, eventLoop: loop)
        NIOPipeBootstrap(group: loop)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(Wakeups(bound.value)) }
            }
            .takingOwnershipOfDescriptor(input: eventFD)
            .whenFailure { _ in close(eventFD) }
    }

    private static func openRing(capacity: UInt32) -> IOURing? {
        // Two entries per probe started in one turn; completions: a connect each and, after a
        // timeout, its cancel's and close's failures (the kernel keeps any overflow aside: `reap`).
        guard let ring = IOURing(entries: capacity, completions: 4 * capacity) else { return nil }
        guard ring.registerEmptyFiles(capacity) else {
            ring.close()
            return nil
        }
        return ring
    }

    /// Starts one probe; nil when this connector cannot take it (no io_uring, or every slot busy).
    func run(address: IPAddress, port: UInt16, timeoutMilliseconds: UInt32) -> EventLoopFuture<ProbeVerdict>? {
        loop.preconditionInEventLoop()
        guard let ring, ring.room >= 2, let index = free.last else { return nil }
        let sockaddr = addresses + Int(index) * Self.addressStride
        guard let length = try? address.socketAddress(port: port).withSockAddr({ p, n in
            sockaddr.copyMemory(from: p, byteCount: min(n, Self.addressStride))
            return n
        }) else { return nil }
        free.removeLast()
        generation &+= 1
        let attempt = ProbeAttempt(loop: loop, timeoutMilliseconds: timeoutMilliseconds,
                                   onTimeout: .failed("no connection within \(timeoutMilliseconds) ms"))
        slots[Int(index)] = Slot(attempt: attempt, generation: generation)
        var socket = IOURing.Entry(opcode: IOURing.Op.socket)
        socket.flags = IOURing.Flag.link | IOURing.Flag.skipSuccess
        socket.fd = address.family == .v6 ? AF_INET6 : AF_INET
        socket.offset = UInt64(SOCK_STREAM.rawValue)
        socket.fileIndex = index + 1
        socket.userData = tag(index, .socket)
        var connect = IOURing.Entry(opcode: IOURing.Op.connect)
        connect.flags = IOURing.Flag.fixedFile
        connect.fd = Int32(index)
        connect.address = UInt64(UInt(bitPattern: sockaddr))
        connect.offset = UInt64(length)
        connect.userData = tag(index, .connect)
        ring.push(socket)
        ring.push(connect)
        let generation = self.generation
        attempt.onFinish = { [unowned self] in self.abandon(index, generation: generation) }
        flushNow()
        return attempt.futureResult
    }

    private func tag(_ index: UInt32, _ kind: Kind) -> UInt64 {
        UInt64(generation) << 32 | UInt64(index) << 2 | kind.rawValue
    }

    /// The attempt ended (a verdict or its timeout): a connect still under way is cancelled.
    private func abandon(_ index: UInt32, generation: UInt32) {
        guard let ring, var slot = slots[Int(index)], slot.generation == generation, !slot.cancelled else { return }
        slot.cancelled = true
        slots[Int(index)] = slot
        var cancel = IOURing.Entry(opcode: IOURing.Op.asyncCancel)
        cancel.address = UInt64(generation) << 32 | UInt64(index) << 2 | Kind.connect.rawValue
        cancel.flags = IOURing.Flag.skipSuccess
        cancel.userData = UInt64(generation) << 32 | UInt64(index) << 2 | Kind.cancel.rawValue
        if ring.push(cancel) { flushNow() }
    }

    /// One submission after the probes of this turn of the loop are queued.
    private func flushNow() {
        guard !flushQueued else { return }
        flushQueued = true
        loop.execute { [unowned self] in
            flushQueued = false
            ring?.submit()
        }
    }

    /// Closes ride with the next turn's probes; this submits them if no probe starts within 20 ms.
    private func flushSoon() {
        guard !closeFlushArmed else { return }
        closeFlushArmed = true
        LoopTimers.of(loop).schedule(at: loop.now + .milliseconds(20)) { [unowned self] _ in
            closeFlushArmed = false
            ring?.submit()
        }
    }

    /// Reads every posted completion (the eventfd said there are some).
    fileprivate func drain() {
        guard let ring else { return }
        var closes = false
        ring.reap { data, result in
            let index = UInt32(truncatingIfNeeded: data >> 2) & 0x3fff_ffff
            let generation = UInt32(truncatingIfNeeded: data >> 32)
            guard index < capacity, let slot = slots[Int(index)], slot.generation == generation,
                  let kind = Kind(rawValue: data & 3) else { return }
            switch kind {
            case .socket:
                slots[Int(index)]?.socketError = -result
            case .connect:
                let verdict: ProbeVerdict
                if result == 0 {
                    verdict = .passed("connected")
                } else if let e = slot.socketError {
                    verdict = .failed("cannot make a socket: " + ProbeErrors.errnoText(e))
                } else {
                    verdict = .failed(ProbeErrors.errnoText(-result))
                }
                // Let the slot go first: finishing runs `abandon`, which must find it gone.
                slots[Int(index)] = nil
                var close = IOURing.Entry(opcode: IOURing.Op.close)
                close.fileIndex = index + 1
                close.flags = IOURing.Flag.skipSuccess
                close.userData = UInt64(generation) << 32 | UInt64(index) << 2 | Kind.close.rawValue
                // The close is queued before the slot can be taken again, so it runs first.
                if ring.push(close) { closes = true }
                free.append(index)
                if !slot.cancelled { slot.attempt.finish(verdict) }
            case .close, .cancel:
                break
            }
        }
        if closes { flushSoon() }
    }

    /// Reads the eventfd's count (NIO does) and has the connector read the completions.
    private final class Wakeups: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        private let connector: RingConnector

        init(_ connector: RingConnector) { self.connector = connector }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) { connector.drain() }
    }
}
