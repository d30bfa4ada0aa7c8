import CNetlink
import Glibc
import IOURing
import LVSModel
import NIOCore
import NIOPosix

/// tcp (a full connect, keepalived's TCP_CHECK) and plain http through io_uring: each probe is a
/// socket made into a registered file slot with a connect linked to it (for http, then the request's
/// send and a receive), and the probes of one turn of the loop go to the kernel in one system call.
/// A completed connect is up for tcp; http's answer goes to a `RingExchange`. The slot is closed
/// with the next submission.
///
/// Why not NIO's socket channel, as the other kinds: a channel costs about two dozen system calls
/// per connection (socket, connect, epoll_ctl three or four times, getsockname three times,
/// getpeername, clock_gettime, close), and in the user-mode-linux lab, where a system call is dear,
/// 1,000 connects a second cost lvsh 1.2–1.9× keepalived's CPU. Here a probe costs a share of one
/// io_uring_enter and of the eventfd wake-ups that report completions (read through NIO's pipe
/// channel, and every 20 ms while a probe is under way: `tickSoon`). Probes that bind a source
/// address, and every probe where io_uring lacks what this needs (Linux before 5.19), take the
/// channel.
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
    private var tickArmed = false
    /// The slot whose completion is being handled: its attempt may end meanwhile, and the handler,
    /// not `abandon`, then closes it.
    private var handling: UInt32?

    private static let addressStride = 32
    /// Bytes per receive of an answer.
    static let receiveSize = 4096

    private struct Slot {
        var attempt: ProbeAttempt
        var generation: UInt32
        var exchange: (any RingExchange)?
        /// The request, then room for one receive (http only).
        var buffer: UnsafeMutableRawPointer?
        var requestLength = 0
        /// The entry whose completion comes next.
        var pending: Kind = .connect
        var socketError: Int32?
        var cancelled = false
    }

    /// What a completion is for: the low three bits of its user data.
    private enum Kind: UInt64 {
        case socket = 0, connect = 1, send = 2, receive = 3, close = 4, cancel = 5
    }

    /// A connector with `capacity` connections in flight at most (beyond, probes take the channel);
    /// the registered slots count against the open-file limit, so at most a quarter of it. Without
    /// `wakeups` (tests) no eventfd reports completions, and only the 20 ms tick reads them.
    init(loop: any EventLoop, capacity wanted: UInt32 = 4096, wakeups: Bool = true) {
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
        let eventFD = wakeups ? lvsh_eventfd() : -1
        guard !wakeups || (eventFD >= 0 && ring.registerEventFD(eventFD)) else {
            if eventFD >= 0 { close(eventFD) }
            ring.close()
            return
        }
        slots = Array(repeating: nil, count: Int(capacity))
        free = Array((0..<capacity).reversed())
        guard wakeups else { return }
        let bound = NIOLoopBound(self, eventLoop: loop)
        NIOPipeBootstrap(group: loop)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(Wakeups(bound.value)) }
            }
            .takingOwnershipOfDescriptor(input: eventFD)
            .whenFailure { _ in close(eventFD) }
    }

    private static func openRing(capacity: UInt32) -> IOURing? {
        // Four entries per http probe started in one turn; completions: up to three a probe, and
        // after a timeout its cancel's and close's failures (the kernel keeps any overflow aside: `reap`).
        guard let ring = IOURing(entries: 2 * capacity, completions: 4 * capacity) else { return nil }
        guard ring.registerEmptyFiles(capacity) else {
            ring.close()
            return nil
        }
        return ring
    }

    /// Whether io_uring gives this connector what it needs (Linux 5.19 and later).
    var works: Bool { ring != nil }

    /// Starts one probe: a connect, and with `exchange` its request and answer; nil when this
    /// connector cannot take it (no io_uring, or every slot busy).
    func run(address: IPAddress, port: UInt16, timeoutMilliseconds: UInt32, exchange: (any RingExchange)? = nil,
             attempt makeAttempt: () -> ProbeAttempt) -> EventLoopFuture<ProbeVerdict>? {
        loop.preconditionInEventLoop()
        guard let ring, ring.room >= 4, let index = free.last else { return nil }
        let sockaddr = addresses + Int(index) * Self.addressStride
        guard let length = try? address.socketAddress(port: port).withSockAddr({ p, n in
            sockaddr.copyMemory(from: p, byteCount: min(n, Self.addressStride))
            return n
        }) else { return nil }
        free.removeLast()
        generation &+= 1
        let attempt = makeAttempt()
        if exchange != nil { attempt.waiting(for: "no connection") }
        var slot = Slot(attempt: attempt, generation: generation, exchange: exchange)
        var socket = IOURing.Entry(opcode: IOURing.Op.socket)
        socket.flags = IOURing.Flag.link | IOURing.Flag.skipSuccess
        socket.fd = address.family == .v6 ? AF_INET6 : AF_INET
        socket.offset = UInt64(SOCK_STREAM.rawValue)
        socket.fileIndex = index + 1
        socket.userData = tag(index, .socket)
        var connect = IOURing.Entry(opcode: IOURing.Op.connect)
        connect.flags = IOURing.Flag.fixedFile | (exchange == nil ? 0 : IOURing.Flag.link)
        connect.fd = Int32(index)
        connect.address = UInt64(UInt(bitPattern: sockaddr))
        connect.offset = UInt64(length)
        connect.userData = tag(index, .connect)
        ring.push(socket)
        ring.push(connect)
        if let exchange {
            let request = exchange.request
            let buffer = UnsafeMutableRawPointer.allocate(byteCount: request.count + Self.receiveSize, alignment: 16)
            request.withUnsafeBytes { buffer.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
            slot.buffer = buffer
            slot.requestLength = request.count
            var send = IOURing.Entry(opcode: IOURing.Op.send)
            send.flags = IOURing.Flag.fixedFile | IOURing.Flag.link
            send.fd = Int32(index)
            send.address = UInt64(UInt(bitPattern: buffer))
            send.length = UInt32(request.count)
            send.opFlags = UInt32(MSG_NOSIGNAL)
            send.userData = tag(index, .send)
            ring.push(send)
            pushReceive(index, slot)
        }
        slots[Int(index)] = slot
        let generation = self.generation
        attempt.onFinish = { [unowned self] in self.abandon(index, generation: generation) }
        attempt.beforeTimeout = { [unowned self] in self.drain() }
        flushNow()
        tickSoon()
        return attempt.futureResult
    }

    private func tag(_ index: UInt32, _ kind: Kind, generation: UInt32? = nil) -> UInt64 {
        UInt64(generation ?? self.generation) << 32 | UInt64(index) << 3 | kind.rawValue
    }

    private func pushReceive(_ index: UInt32, _ slot: Slot) {
        var receive = IOURing.Entry(opcode: IOURing.Op.recv)
        receive.flags = IOURing.Flag.fixedFile
        receive.fd = Int32(index)
        receive.address = UInt64(UInt(bitPattern: slot.buffer! + slot.requestLength))
        receive.length = UInt32(Self.receiveSize)
        receive.userData = tag(index, .receive, generation: slot.generation)
        ring?.push(receive)
    }

    /// The attempt ended (its timeout, or a verdict reached outside `drain`): the entry under way
    /// is cancelled, and the slot closed when its completion comes.
    private func abandon(_ index: UInt32, generation: UInt32) {
        guard handling != index, var slot = slots[Int(index)], slot.generation == generation, !slot.cancelled else { return }
        slot.cancelled = true
        slots[Int(index)] = slot
        cancel(index, slot)
    }

    private func cancel(_ index: UInt32, _ slot: Slot) {
        var cancel = IOURing.Entry(opcode: IOURing.Op.asyncCancel)
        cancel.address = tag(index, slot.pending, generation: slot.generation)
        cancel.flags = IOURing.Flag.skipSuccess
        cancel.userData = tag(index, .cancel, generation: slot.generation)
        if ring?.push(cancel) == true { flushNow() }
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

    /// One look at the ring 20 ms from now, again every 20 ms while a slot is in use: it reads the
    /// completions, and submits what waits (closes ride with the next turn's probes; this sends
    /// them if no probe starts meanwhile).
    ///
    /// The completions are read here whether or not the eventfd's wake-up came. In the
    /// user-mode-linux lab the eventfd once went unread for a whole run (the ring had 10,514
    /// completions waiting and the eventfd a count of 218) while the loop ran on time, and every
    /// http probe of that run timed out; the cause, in NIO's pipe channel or the kernel, was not
    /// found. Reading the ring is a look at shared memory, without a system call.
    private func tickSoon() {
        guard !tickArmed else { return }
        tickArmed = true
        // Weak: a connector let go (tests) leaves its last timer behind.
        let timers = LoopTimers.of(loop)
        timers.schedule(at: timers.now + .milliseconds(20)) { [weak self] _ in
            guard let self else { return }
            tickArmed = false
            drain()
            ring?.submit()
            if free.count < Int(capacity) { tickSoon() }
        }
    }

    /// Closes the slot's socket (with the next submission) and lets the slot go. The close is queued
    /// before the slot can be taken again, so it runs first.
    private func release(_ index: UInt32, _ slot: Slot) {
        slots[Int(index)] = nil
        slot.buffer?.deallocate()
        slot.exchange?.end()
        var close = IOURing.Entry(opcode: IOURing.Op.close)
        close.fileIndex = index + 1
        close.flags = IOURing.Flag.skipSuccess
        close.userData = tag(index, .close, generation: slot.generation)
        ring?.push(close)
        free.append(index)
        tickSoon()
    }

    /// Reads every posted completion (the eventfd said there are some); the probes they end share
    /// one reading of the clock.
    fileprivate func drain() {
        guard let ring else { return }
        LoopTimers.of(loop).turn { reap(ring) }
    }

    private func reap(_ ring: IOURing) {
        ring.reap { data, result in
            let index = UInt32(truncatingIfNeeded: data >> 3) & 0x1fff_ffff
            let generation = UInt32(truncatingIfNeeded: data >> 32)
            guard index < capacity, var slot = slots[Int(index)], slot.generation == generation,
                  let kind = Kind(rawValue: data & 7) else { return }
            handling = index
            defer { handling = nil }
            switch kind {
            case .socket:
                slots[Int(index)]?.socketError = -result
            case .connect, .send, .receive:
                if slot.cancelled {
                    // A cancel may have come too late for this entry; then the next one runs.
                    if result >= 0, let next = next(after: kind, slot) {
                        slot.pending = next
                        slots[Int(index)] = slot
                        cancel(index, slot)
                    } else {
                        release(index, slot)
                    }
                    return
                }
                completed(kind, result: result, index: index, slot: &slot)
            case .close, .cancel:
                break
            }
        }
    }

    /// The entry that runs after `kind` succeeded, if any.
    private func next(after kind: Kind, _ slot: Slot) -> Kind? {
        guard slot.exchange != nil else { return nil }
        switch kind {
        case .connect: return .send
        case .send: return .receive
        default: return nil
        }
    }

    private func completed(_ kind: Kind, result: Int32, index: UInt32, slot: inout Slot) {
        if result < 0 {
            let reason: String
            if kind == .connect, let e = slot.socketError {
                reason = "cannot make a socket: " + ProbeErrors.errnoText(e)
            } else {
                reason = ProbeErrors.errnoText(-result)
            }
            slot.attempt.finish(.failed(reason))
            release(index, slot)
            return
        }
        guard let exchange = slot.exchange else {
            slot.attempt.finish(.passed("connected"))
            release(index, slot)
            return
        }
        // A timeout says how far the exchange got: a connection that never came up, a request the
        // peer did not take, or an answer that did not come.
        switch kind {
        case .connect:
            slot.pending = .send
            slot.attempt.waiting(for: "connected; the request not sent")
        case .send:
            slot.pending = .receive
            slot.attempt.waiting(for: "request sent; no answer")
        default:
            if result == 0 {
                exchange.closed()
            } else {
                exchange.received(UnsafeRawBufferPointer(start: slot.buffer! + slot.requestLength, count: Int(result)))
            }
            if !slot.attempt.isDone && result > 0 {
                slot.attempt.waiting(for: "part of an answer; the rest not")
                pushReceive(index, slot)
                flushNow()
            } else {
                // The peer closed and the exchange said nothing: end it all the same.
                slot.attempt.finish(.failed("connection closed before an answer"))
                release(index, slot)
                return
            }
        }
        slots[Int(index)] = slot
    }

    /// Reads the eventfd's count (NIO does) and has the connector read the completions.
    private final class Wakeups: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        private let connector: RingConnector

        init(_ connector: RingConnector) { self.connector = connector }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) { connector.drain() }
    }
}

/// What a probe says over a `RingConnector`'s connection once it is up: the request, then the
/// answer's bytes as they come. The exchange ends the probe's attempt when it has a verdict.
protocol RingExchange: AnyObject {
    var request: [UInt8] { get }
    func received(_ bytes: UnsafeRawBufferPointer)
    /// The peer closed the connection.
    func closed()
    /// The connection is gone (after a verdict, a failure or the timeout): let go of what it holds.
    func end()
}
