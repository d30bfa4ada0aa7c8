#if canImport(Glibc)
import Glibc
#endif

/// systemd's notification protocol (sd_notify(3)): one datagram per state to $NOTIFY_SOCKET, so that a
/// `Type=notify` unit knows when lvsh is ready, reloading or stopping, and its watchdog is fed.
/// Without $NOTIFY_SOCKET (not under systemd) every call does nothing.
public struct SystemdNotifier: Sendable {
    private let socketPath: [UInt8]?
    /// Half of $WATCHDOG_USEC, when systemd watches this process: how often to send WATCHDOG=1.
    public let watchdogInterval: Duration?

    public init(environment: [String: String] = SystemdNotifier.environment()) {
        if let p = environment["NOTIFY_SOCKET"], !p.isEmpty, p.utf8.count < 108, p.hasPrefix("/") || p.hasPrefix("@") {
            var bytes = Array(p.utf8)
            // An abstract socket's name starts with a zero byte where systemd writes '@'.
            if bytes[0] == UInt8(ascii: "@") { bytes[0] = 0 }
            socketPath = bytes
        } else {
            socketPath = nil
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

    public var isActive: Bool { socketPath != nil }

    public func ready(status: String) { send("READY=1\nSTATUS=\(status)") }
    public func reloading() { send("RELOADING=1\nMONOTONIC_USEC=\(Self.monotonicMicroseconds())") }
    public func status(_ text: String) { send("STATUS=\(text)") }
    public func stopping() { send("STOPPING=1") }
    public func watchdog() { send("WATCHDOG=1") }

    /// Sends one message; a failure is not the daemon's to act on (systemd then restarts or times out).
    @discardableResult
    public func send(_ message: String) -> Bool {
        guard let socketPath else { return false }
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (i, b) in socketPath.enumerated() { raw[i] = b }
        }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + socketPath.count)
        let bytes = Array(message.utf8)
        let sent = withUnsafePointer(to: &address) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa in
                bytes.withUnsafeBytes { sendto(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL), sa, length) }
            }
        }
        return sent == bytes.count
    }

    static func monotonicMicroseconds() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) * 1_000_000 + UInt64(ts.tv_nsec) / 1000
    }
}
