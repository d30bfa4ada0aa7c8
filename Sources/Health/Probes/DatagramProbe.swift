import Glibc
import LVSModel
import NIOCore
import NIOPosix

/// udp and dns: one datagram on a connected UDP socket, so that an ICMP port unreachable comes
/// back as ECONNREFUSED, and a verdict on the answers (keepalived's UDP_CHECK and DNS_CHECK).
enum DatagramProbe {
    /// Sends `payload` and gives each answer to `judge` (nil: not the answer, keep waiting). Without
    /// an answer, the timeout says `onTimeout` (a UDP check that expects nothing passes unless ICMP says no).
    static func run(payload: [UInt8], address: IPAddress, port: UInt16, source: IPAddress?, timeoutMilliseconds: UInt32,
                    onTimeout: ProbeVerdict? = nil, on loop: any EventLoop,
                    judge: @escaping @Sendable ([UInt8]) -> ProbeVerdict?) -> EventLoopFuture<ProbeVerdict> {
        let attempt = ProbeAttempt(loop: loop, timeoutMilliseconds: timeoutMilliseconds, onTimeout: onTimeout)
        let bound = NIOLoopBound(attempt, eventLoop: loop)
        do {
            let local = try (source ?? .zero(address.family)).socketAddress(port: 0)
            let remote = try address.socketAddress(port: port)
            DatagramBootstrap(group: loop)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(DatagramCheckHandler(judge: judge, attempt: bound.value))
                    }
                }
                .bind(to: local)
                .flatMap { channel in
                    bound.value.attach(channel)
                    return channel.connect(to: remote).flatMap {
                        channel.writeAndFlush(ByteBuffer(bytes: payload))
                    }
                }
                .whenFailure { bound.value.fail($0) }
        } catch {
            attempt.fail(error)
        }
        return attempt.futureResult
    }

    /// A UDP check: `expect` must begin the answer; without it any answer, or silence, passes.
    static func udp(payload: [UInt8], expect: [UInt8]?, address: IPAddress, port: UInt16, source: IPAddress?,
                    timeoutMilliseconds: UInt32, on loop: any EventLoop) -> EventLoopFuture<ProbeVerdict> {
        let silence: ProbeVerdict? = expect == nil ? .passed("no answer and no ICMP error within \(timeoutMilliseconds) ms") : nil
        return run(payload: payload, address: address, port: port, source: source, timeoutMilliseconds: timeoutMilliseconds,
                   onTimeout: silence, on: loop) { answer in
            let (ok, reason) = DatagramExpectation.evaluate(answer: answer, expect: expect)
            return ProbeVerdict(ok: ok, reason: reason)
        }
    }

    /// A DNS check: a query with a random id; the answer with that id must have RCODE 0.
    static func dns(name: String, type: DNSRecordType, address: IPAddress, port: UInt16, source: IPAddress?,
                    timeoutMilliseconds: UInt32, on loop: any EventLoop) -> EventLoopFuture<ProbeVerdict> {
        let id = UInt16.random(in: 0...UInt16.max)
        let query: [UInt8]
        do {
            query = try DNSMessage.query(id: id, name: name, type: type)
        } catch {
            return loop.makeSucceededFuture(.failed(error.description))
        }
        return run(payload: query, address: address, port: port, source: source, timeoutMilliseconds: timeoutMilliseconds,
                   on: loop) { answer in
            DNSMessage.verdict(answer: answer, id: id).map { ProbeVerdict(ok: $0.ok, reason: $0.reason) }
        }
    }
}

/// Reads answers until one gives a verdict; an ICMP error on the connected socket is a failure.
final class DatagramCheckHandler: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>

    private let judge: @Sendable ([UInt8]) -> ProbeVerdict?
    private let attempt: ProbeAttempt

    init(judge: @escaping @Sendable ([UInt8]) -> ProbeVerdict?, attempt: ProbeAttempt) {
        self.judge = judge
        self.attempt = attempt
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if let verdict = judge(Array(unwrapInboundIn(data).data.readableBytesView)) { attempt.finish(verdict) }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if let e = error as? IOError, e.errnoCode == ECONNREFUSED {
            attempt.finish(.failed("port unreachable (ICMP)"))
        } else {
            attempt.fail(error)
        }
    }
}
