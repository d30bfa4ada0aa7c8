import Glibc
import NIOCore

/// One run of a connection probe on its event loop: it ends once, with whichever comes first of the
/// verdict, an error and the timeout, and then closes its channel. Used only on `loop`.
final class ProbeAttempt {
    let loop: any EventLoop
    private let promise: EventLoopPromise<ProbeVerdict>
    private var channel: (any Channel)?
    private(set) var isDone = false
    /// Said when the timeout ends the run: a failure for most kinds, a success for a UDP check
    /// that expects no answer and got no ICMP error.
    var onTimeout: ProbeVerdict
    let timeoutMilliseconds: UInt32

    init(loop: any EventLoop, timeoutMilliseconds: UInt32, onTimeout: ProbeVerdict? = nil) {
        self.loop = loop
        self.timeoutMilliseconds = timeoutMilliseconds
        self.promise = loop.makePromise()
        self.onTimeout = onTimeout ?? .failed("no verdict within \(timeoutMilliseconds) ms")
        // From the slot of the grid the run started in, as its lateness counts: from `now`, the
        // timeout fell in the slot after (up to 20 ms more each time), and a dead server's three
        // timeouts in a row took 60 ms more than `interval × fall + timeout` allows for.
        let slot = LoopTimers.deadline(of: LoopTimers.slot(atOrBefore: LoopTimers.of(loop).now))
        arm(deadline: slot + .milliseconds(Int64(timeoutMilliseconds)), extended: false)
    }

    /// What the timeout says from now on: how far the run got (`what` "within N ms").
    func waiting(for what: String) {
        onTimeout = .failed("\(what) within \(timeoutMilliseconds) ms")
    }

    /// The timeout, in the loop's `LoopTimers` (never cancelled: once the run has ended it returns).
    /// NIO's loop runs every due task before it reads its sockets again, so when a turn of the loop
    /// runs long (a busy machine), a timeout can come due while an answer that came in time waits
    /// unread: the TCP handshakes completed, yet 1,000 checks a second in a one-CPU guest all ended
    /// "no connection within 1000 ms". A timeout that runs late by L therefore waits L more, once,
    /// so that the loop reads what came meanwhile (a connect still ends at NIO's connect timeout,
    /// three times the check's: a loop more than twice the timeout behind fails it there).
    private func arm(deadline: NIODeadline, extended: Bool) {
        let bound = NIOLoopBound(self, eventLoop: loop)
        LoopTimers.of(loop).schedule(at: deadline) { late in
            let attempt = bound.value
            guard !attempt.isDone else { return }
            attempt.beforeTimeout?()
            guard !attempt.isDone else { return }
            if !extended, late > Self.lateTimeout {
                attempt.arm(deadline: attempt.loop.now + late, extended: true)
            } else {
                attempt.finish(attempt.onTimeout)
            }
        }
    }

    /// How late a timeout may run before it is taken for a loop that was behind.
    static let lateTimeout = TimeAmount.milliseconds(20)

    var futureResult: EventLoopFuture<ProbeVerdict> { promise.futureResult }

    /// Run when the timeout comes, before it ends the run: a probe outside NIO's channels reads
    /// what has completed meanwhile, so that an answer that came in time is not taken for none.
    var beforeTimeout: (() -> Void)?

    /// Run once when the run ends (a probe outside NIO's channels lets go of its socket there).
    var onFinish: (() -> Void)?

    /// The channel to close when the run ends.
    func attach(_ channel: any Channel) {
        if isDone { channel.close(promise: nil) } else { self.channel = channel }
    }

    func finish(_ verdict: ProbeVerdict) {
        loop.preconditionInEventLoop()
        guard !isDone else { return }
        isDone = true
        channel?.close(promise: nil)
        channel = nil
        onFinish?()
        onFinish = nil
        beforeTimeout = nil
        promise.succeed(verdict)
    }

    func fail(_ error: any Error) { finish(.failed(ProbeErrors.describe(error))) }
}

/// Sentences for the errors probes meet.
enum ProbeErrors {
    static func describe(_ error: any Error) -> String {
        if let e = error as? IOError { return errnoText(e.errnoCode) }
        if let e = error as? ChannelError {
            switch e {
            case .connectTimeout(let t): return "no connection within \(t.nanoseconds / 1_000_000) ms"
            case .eof, .ioOnClosedChannel, .alreadyClosed: return "connection closed"
            default: return "\(e)"
            }
        }
        let text = "\(error)"
        // BoringSSL's errors print as "...error:1000007d:SSL routines:OPENSSL_internal:CERTIFICATE_VERIFY_FAILED at
        // /path/handshake.cc:320]": the reason names are what an operator can act on.
        let reasons = text.split(separator: "OPENSSL_internal:").dropFirst().map { $0.prefix { $0 != " " && $0 != "]" } }
        if !reasons.isEmpty { return "TLS: " + reasons.map { String($0.lowercased().map { $0 == "_" ? " " : $0 }) }.joined(separator: ", ") }
        return text
    }

    static func errnoText(_ code: CInt) -> String {
        switch code {
        case ECONNREFUSED: "connection refused"
        case ECONNRESET: "connection reset"
        case EHOSTUNREACH: "host unreachable"
        case ENETUNREACH: "network unreachable"
        case ETIMEDOUT: "timed out"
        case EADDRNOTAVAIL: "source address not available"
        case EACCES, EPERM: "permission denied"
        default: String(cString: strerror(code))
        }
    }
}
