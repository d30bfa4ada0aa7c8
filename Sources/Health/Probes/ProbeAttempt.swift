import Glibc
import NIOCore

/// One run of a connection probe on its event loop: it ends once, with whichever comes first of the
/// verdict, an error and the timeout, and then closes its channel. Used only on `loop`.
final class ProbeAttempt {
    let loop: any EventLoop
    private let promise: EventLoopPromise<ProbeVerdict>
    private var timer: Scheduled<Void>?
    private var channel: (any Channel)?
    private(set) var isDone = false
    /// Said when the timeout ends the run: a failure for most kinds, a success for a UDP check
    /// that expects no answer and got no ICMP error.
    var onTimeout: ProbeVerdict

    /// `timed: false` leaves the timeout to the caller: a plain TCP check ends with its connection,
    /// whose connect timeout is the check's, and a second timer would only cost clock reads.
    init(loop: any EventLoop, timeoutMilliseconds: UInt32, onTimeout: ProbeVerdict? = nil, timed: Bool = true) {
        self.loop = loop
        self.promise = loop.makePromise()
        self.onTimeout = onTimeout ?? .failed("no verdict within \(timeoutMilliseconds) ms")
        guard timed else { return }
        let bound = NIOLoopBound(self, eventLoop: loop)
        timer = loop.scheduleTask(in: .milliseconds(Int64(timeoutMilliseconds))) {
            bound.value.finish(bound.value.onTimeout)
        }
    }

    var futureResult: EventLoopFuture<ProbeVerdict> { promise.futureResult }

    /// The channel to close when the run ends.
    func attach(_ channel: any Channel) {
        if isDone { channel.close(promise: nil) } else { self.channel = channel }
    }

    func finish(_ verdict: ProbeVerdict) {
        loop.preconditionInEventLoop()
        guard !isDone else { return }
        isDone = true
        timer?.cancel()
        timer = nil
        channel?.close(promise: nil)
        channel = nil
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
