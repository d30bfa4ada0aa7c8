#if canImport(Glibc)
import Glibc
#endif
import System

/// systemd's notification protocol (sd_notify(3)): one datagram per state to $NOTIFY_SOCKET, so that a
/// `Type=notify` unit knows when lvsh is ready, reloading or stopping, and its watchdog is fed.
/// Without $NOTIFY_SOCKET (not under systemd) every call does nothing.
public struct SystemdNotifier: Sendable {
    private let socket: UnixSocketAddress?
    /// Half of $WATCHDOG_USEC, when systemd watches this process: how often to send WATCHDOG=1.
    public let watchdogInterval: Duration?

    public init(environment: [String: String] = SystemdNotifier.environment()) {
        if let p = environment["NOTIFY_SOCKET"], p.hasPrefix("/") || p.hasPrefix("@") {
            socket = UnixSocketAddress(p, abstract: true)
        } else {
            socket = nil
        }
        let watchedPID = environment["WATCHDOG_PID"].flatMap { Int32($0) }
        if let usec = environment["WATCHDOG_USEC"].flatMap({ UInt64($0) }), usec > 0, watchedPID == nil || watchedPID == getpid() {
            watchdogInterval = .microseconds(Int64(usec / 2))
        } else {
            watchdogInterval = nil
        }
    }

    public static func environment() -> [String: String] {
        var env: [String: String] = [:]
        for name in ["NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID"] {
            if let v = getenv(name) { env[name] = String(cString: v) }
        }
        return env
    }

    public var isActive: Bool { socket != nil }

    public func ready(status: String) { send("READY=1\nSTATUS=\(status)") }
    public func reloading() { send("RELOADING=1\nMONOTONIC_USEC=\(Self.monotonicMicroseconds())") }
    public func status(_ text: String) { send("STATUS=\(text)") }
    public func stopping() { send("STOPPING=1") }
    public func watchdog() { send("WATCHDOG=1") }

    /// Sends one message; a failure is not the daemon's to act on (systemd then restarts or times out).
    @discardableResult
    public func send(_ message: String) -> Bool {
        guard let socket else { return false }
        let fd = Glibc.socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        let bytes = Array(message.utf8)
        let sent = socket.withSockaddr { sa, length in
            bytes.withUnsafeBytes { sendto(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL), sa, length) }
        }
        return sent == bytes.count
    }

    static func monotonicMicroseconds() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) * 1_000_000 + UInt64(ts.tv_nsec) / 1000
    }
}
