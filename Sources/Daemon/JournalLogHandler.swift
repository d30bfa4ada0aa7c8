#if canImport(Glibc)
import Glibc
#endif
import Logging

/// swift-log's lines on standard error in the form journald indexes: a `<N>` syslog priority prefix
/// (journald reads it from a service's stderr) and `key=value` metadata after the message. Outside
/// systemd ($JOURNAL_STREAM unset), a UTC time stamp and the level in words instead.
public struct JournalLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .info
    private let label: String
    private let underJournal: Bool
    private let write: @Sendable (String) -> Void

    public init(label: String, underJournal: Bool = getenv("JOURNAL_STREAM") != nil,
                write: @escaping @Sendable (String) -> Void = JournalLogHandler.standardError) {
        self.label = label
        self.underJournal = underJournal
        self.write = write
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var line = underJournal ? "<\(Self.priority(event.level))>" : "\(Self.timestamp()) \(event.level) "
        line += event.message.description
        let all = metadata.merging(event.metadata ?? [:]) { $1 }
        for (k, v) in all.sorted(by: { $0.key < $1.key }) { line += " \(k)=\(Self.value(v.description))" }
        // One line per record: a message with newlines would become several journal entries.
        write(line.split(separator: "\n", omittingEmptySubsequences: false).joined(separator: " | ") + "\n")
    }

    /// syslog priorities (sd-daemon(3)).
    static func priority(_ level: Logger.Level) -> Int {
        switch level {
        case .trace, .debug: 7
        case .info: 6
        case .notice: 5
        case .warning: 4
        case .error: 3
        case .critical: 2
        }
    }

    static func value(_ s: String) -> String {
        s.contains(where: { $0 == " " || $0 == "\"" || $0 == "=" }) ? "\"" + s.replacingQuotes() + "\"" : s
    }

    static func timestamp() -> String {
        var t = time(nil)
        var tm = tm()
        gmtime_r(&t, &tm)
        func two(_ v: Int32) -> String { v < 10 ? "0\(v)" : "\(v)" }
        return "\(tm.tm_year + 1900)-\(two(tm.tm_mon + 1))-\(two(tm.tm_mday))T\(two(tm.tm_hour)):\(two(tm.tm_min)):\(two(tm.tm_sec))Z"
    }

    public static let standardError: @Sendable (String) -> Void = { line in
        let bytes = Array(line.utf8)
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { Glibc.write(2, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return }
            offset += n
        }
    }
}

extension String {
    func replacingQuotes() -> String {
        var out = ""
        for ch in self { if ch == "\"" { out += "\\\"" } else { out.append(ch) } }
        return out
    }
}
