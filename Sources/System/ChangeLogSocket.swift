#if canImport(Glibc)
import Glibc
#endif
import LVSModel

/// Where a committed change's one line goes: journald's native socket when journald runs, else the
/// syslog socket /dev/log; LVSH_LOG_SOCKET names another syslog socket (the lab's listener, tests).
/// One datagram per line, sent without waiting: a log that cannot be written never holds up a change.
public struct ChangeLogSocket: Sendable {
    /// journald's native protocol, or an RFC 3164 syslog line.
    public enum Format: Sendable { case journal, syslog }

    public let path: String
    public let format: Format

    public init(path: String, format: Format) {
        self.path = path
        self.format = format
    }

    public static let journalSocket = "/run/systemd/journal/socket"

    /// LVSH_LOG_SOCKET when set, journald's socket when it exists, else /dev/log.
    public static func standard() -> ChangeLogSocket {
        if let p = getenv("LVSH_LOG_SOCKET"), p.pointee != 0 { return ChangeLogSocket(path: String(cString: p), format: .syslog) }
        if access(journalSocket, F_OK) == 0 { return ChangeLogSocket(path: journalSocket, format: .journal) }
        return ChangeLogSocket(path: "/dev/log", format: .syslog)
    }

    /// The datagram for `message`: journald's fields, or an RFC 3164 line (facility daemon).
    public func datagram(_ message: String, failed: Bool, fields: [(String, String)] = [], now: time_t = time(nil)) -> String {
        let line = message.split(separator: "\n", omittingEmptySubsequences: false).joined(separator: " | ")
        switch format {
        case .journal:
            // Values stay on one line, so the simple "KEY=value\n" form of the protocol holds them.
            var text = "MESSAGE=\(line)\nPRIORITY=\(failed ? 3 : 5)\nSYSLOG_IDENTIFIER=lvsh\nSYSLOG_FACILITY=3\n"
            for (k, v) in fields { text += "\(k)=\(v.split(separator: "\n").joined(separator: " | "))\n" }
            return text
        case .syslog:
            var t = now
            var tm = tm()
            localtime_r(&t, &tm)
            let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
            func two(_ v: Int32) -> String { v < 10 ? "0\(v)" : "\(v)" }
            let day = tm.tm_mday < 10 ? " \(tm.tm_mday)" : "\(tm.tm_mday)"
            let stamp = "\(months[Int(tm.tm_mon)]) \(day) \(two(tm.tm_hour)):\(two(tm.tm_min)):\(two(tm.tm_sec))"
            // daemon.notice (3 * 8 + 5), daemon.err for a failed change.
            return "<\(failed ? 27 : 29)>\(stamp) lvsh[\(getpid())]: \(line)"
        }
    }

    /// Sends one line; the error says why it was not sent. A socket that does not exist means no
    /// logger runs here (a container, a test): nothing to tell, so that is no error.
    public func send(_ message: String, failed: Bool = false, fields: [(String, String)] = []) throws(LVSError) {
        let bytes = Array(datagram(message, failed: failed, fields: fields).utf8)
        guard let address = UnixSocketAddress(path) else { throw .badInput("the log socket path \(path) is too long") }
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw .failed("cannot open a socket for the log: \(String(cString: strerror(errno)))", errno: errno) }
        defer { close(fd) }
        let sent = address.withSockaddr { sa, length in
            bytes.withUnsafeBytes { sendto(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL | MSG_DONTWAIT), sa, length) }
        }
        guard sent == bytes.count else {
            if errno == ENOENT { return }
            throw .failed("cannot log to \(path): \(String(cString: strerror(errno)))", errno: errno)
        }
    }
}
