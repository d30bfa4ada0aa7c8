import LVSModel
import NIOCore
import NIOPosix

/// smtp: the greeting, HELO and QUIT of keepalived's SMTP_CHECK, over one TCP connection.
enum SMTPProbe {
    static func run(helo: String, address: IPAddress, port: UInt16, source: IPAddress?, timeoutMilliseconds: UInt32,
                    on loop: any EventLoop) -> EventLoopFuture<ProbeVerdict> {
        TCPProbe.connect(address: address, port: port, source: source, timeoutMilliseconds: timeoutMilliseconds, on: loop) { pipeline, attempt in
            try pipeline.addHandler(ByteToMessageHandler(LineDecoder()))
            try pipeline.addHandler(SMTPCheckHandler(dialogue: SMTPDialogue(helo: helo), attempt: attempt))
        }
    }
}

/// Drives an `SMTPDialogue` with the lines the server sends.
final class SMTPCheckHandler: ChannelInboundHandler {
    typealias InboundIn = String
    typealias OutboundOut = ByteBuffer

    private var dialogue: SMTPDialogue
    private let attempt: ProbeAttempt

    init(dialogue: SMTPDialogue, attempt: ProbeAttempt) {
        self.dialogue = dialogue
        self.attempt = attempt
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch dialogue.receive(line: unwrapInboundIn(data)) {
        case .wait:
            break
        case .send(let text):
            context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: text)), promise: nil)
        case .finish(let ok, let reason, let then):
            let verdict = ProbeVerdict(ok: ok, reason: reason)
            if let then {
                // QUIT politely, then close whether or not the server answers it.
                let attempt = NIOLoopBound(self.attempt, eventLoop: context.eventLoop)
                context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: then))).whenComplete { _ in attempt.value.finish(verdict) }
            } else {
                attempt.finish(verdict)
            }
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        attempt.finish(.failed("connection closed during the SMTP dialogue"))
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        attempt.fail(error)
    }
}
