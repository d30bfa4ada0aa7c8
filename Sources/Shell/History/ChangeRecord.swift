/// One committed change: who made it, from which front, with what, and how it ended. It heads the
/// change's archive entry (as `# key: value` comments, so the entry still reads as a configuration)
/// and is the change's line in syslog or the journal.
public struct ChangeRecord: Sendable, Hashable {
    /// RFC 3339, UTC.
    public var time: String
    public var user: String
    /// The controlling terminal, or "-" (cron, systemd).
    public var tty: String
    /// console, command-line, batch, apply, rollback, confirm-rollback, daemon-start, daemon-reload, daemon.
    public var front: String
    /// The command line, or the file of a batch or an apply.
    public var source: String
    /// The plan in one line: its size and its first steps.
    public var summary: String
    /// "ok", or why the change failed (failed changes are logged, not archived).
    public var result = "ok"
    /// The network namespace changed ("net-INODE", as /run/lvsh names it): one archive serves every
    /// namespace of the host, and `rollback` takes only the current one's entries.
    public var namespace = ""

    public init(time: String, user: String, tty: String, front: String, source: String, summary: String, result: String = "ok",
                namespace: String = "") {
        self.namespace = namespace
        self.time = time
        self.user = user
        self.tty = tty
        self.front = front
        self.source = source
        self.summary = summary
        self.result = result
    }

    /// The header's fields, in their order.
    static let keys = ["time", "user", "tty", "front", "source", "summary", "namespace"]
    static let firstLine = "# lvsh configuration archive: the running configuration after this change"

    /// `# key: value` lines, each value on one line.
    public var header: String {
        let values = [time, user, tty, front, source, summary, namespace]
        return Self.firstLine + "\n" + zip(Self.keys, values).map { "# \($0): \(Self.oneLine($1))\n" }.joined()
    }

    /// The record at the head of an archive entry; nil when the text has no header.
    public init?(header text: Substring) {
        var fields: [String: String] = [:]
        for line in text.split(separator: "\n", omittingEmptySubsequences: false).prefix(Self.keys.count + 1).dropFirst() {
            guard line.hasPrefix("# "), let colon = line.firstIndex(of: ":") else { break }
            let key = String(line[line.index(line.startIndex, offsetBy: 2)..<colon])
            fields[key] = String(line[line.index(after: colon)...].drop(while: { $0 == " " }))
        }
        guard text.hasPrefix(Self.firstLine), let t = fields["time"] else { return nil }
        self.init(time: t, user: fields["user"] ?? "-", tty: fields["tty"] ?? "-", front: fields["front"] ?? "-",
                  source: fields["source"] ?? "", summary: fields["summary"] ?? "", namespace: fields["namespace"] ?? "")
    }

    /// The log line: `lvsh change: key=value ...`, with `archive` the entry's number when archived.
    public func logLine(changes: Int, archived: Bool) -> String {
        var fields = [("front", front), ("user", user), ("tty", tty), ("source", source), ("result", result),
                      ("changes", String(changes)), ("summary", summary), ("namespace", namespace)]
        if !archived { fields.append(("archive", "none")) }
        return "change: " + fields.map { "\($0)=\(Self.quoted(Self.oneLine($1)))" }.joined(separator: " ")
    }

    /// A plan of `steps` (their one-line summaries) in one line: its size and the first steps.
    public static func summary(of steps: [String]) -> String {
        guard !steps.isEmpty else { return "no changes" }
        let shown = steps.prefix(3).joined(separator: "; ")
        let more = steps.count > 3 ? "; and \(steps.count - 3) more" : ""
        return "\(steps.count) change\(steps.count == 1 ? "" : "s"): \(shown)\(more)"
    }

    /// Newlines become " | ", and very long values (a batch's whole text) are cut.
    static func oneLine(_ s: String) -> String {
        let joined = s.split(separator: "\n", omittingEmptySubsequences: true).joined(separator: " | ")
        return joined.count > 400 ? String(joined.prefix(400)) + "…" : joined
    }

    static func quoted(_ s: String) -> String {
        guard s.isEmpty || s.contains(where: { $0 == " " || $0 == "\"" || $0 == "=" }) else { return s }
        var out = "\""
        for ch in s { if ch == "\"" || ch == "\\" { out.append("\\") }; out.append(ch) }
        return out + "\""
    }
}
