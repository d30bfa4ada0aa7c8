#if canImport(Glibc)
import Glibc
#endif
import LVSModel
import Synchronization
import System

/// Where committed changes are recorded: the configuration archive (the running configuration after
/// each change) and one line in the system log. A change is in the kernel before it is recorded, so
/// a record that cannot be made never fails it: the first failure of each kind is warned.
public struct ChangeHistory: Sendable {
    public var archive: ConfigArchive
    public var log: ChangeLogSocket
    /// Whether committed changes go into the archive (setting archive), or only into the log.
    public var archives = true

    public init(archive: ConfigArchive, log: ChangeLogSocket) {
        self.archive = archive
        self.log = log
    }

    /// LVSH_STATE_DIR's (or /var/lib/lvsh's) archive, and journald, /dev/log or LVSH_LOG_SOCKET.
    public static func standard() -> ChangeHistory {
        ChangeHistory(archive: .standard(), log: .standard())
    }

    /// The person behind this process (sudo's caller named too) and its terminal.
    public static func caller() -> (user: String, tty: String) {
        var user = getpwuid(getuid()).map { String(cString: $0.pointee.pw_name) } ?? "uid \(getuid())"
        if let sudo = getenv("SUDO_USER"), sudo.pointee != 0 { user += " (sudo from \(String(cString: sudo)))" }
        let tty = [0, 1, 2].lazy.compactMap { fd in ttyname(Int32(fd)).map { String(cString: $0) } }.first ?? "-"
        return (user, tty)
    }

    /// A new record of this process's caller, now.
    public static func record(front: String, source: String, steps: [String], user: String? = nil, tty: String? = nil) -> ChangeRecord {
        let me = caller()
        return ChangeRecord(time: HealthShowCommands.rfc3339(Int64(time(nil))), user: user ?? me.user, tty: tty ?? me.tty,
                            front: front, source: source, summary: ChangeRecord.summary(of: steps), namespace: namespace())
    }

    /// The calling thread's network namespace as /run/lvsh names it ("net-INODE"); "" when unknown.
    public static func namespace() -> String {
        var st = stat()
        guard stat("/proc/thread-self/ns/net", &st) == 0 || stat("/proc/self/ns/net", &st) == 0 else { return "" }
        return "net-\(st.st_ino)"
    }

    /// This namespace's entries, newest first (N = index): entries without a namespace count too.
    public func entries() throws(LVSError) -> [(entry: ConfigArchive.Entry, record: ChangeRecord?)] {
        let here = Self.namespace()
        return try archive.entries().compactMap { entry in
            let record = ChangeRecord(header: Substring(archive.head(of: entry)))
            guard let ns = record?.namespace, !ns.isEmpty, !here.isEmpty, ns != here else { return (entry, record) }
            return nil
        }
    }

    /// The configuration of this namespace's entry `n`, or an error naming what exists.
    public func text(_ n: Int) throws(LVSError) -> String {
        let all = try entries()
        guard n >= 0, n < all.count else {
            throw .badInput(all.isEmpty ? "the configuration archive \(archive.folder) holds nothing of this network namespace: no change was committed here since it was started"
                            : "no archived configuration \(n): the archive holds 0 to \(all.count - 1) for this network namespace (`show archive` lists them)")
        }
        return try InputFile.read(all[n].entry.path)
    }

    /// Records a change: archives `config()` (the running configuration after it) when it committed,
    /// and logs one line either way. `warn` gets the first failure of each kind in this process.
    public func record(_ r: ChangeRecord, changes: Int, config: (() throws(LVSError) -> String)?, warn: (String) -> Void) {
        var archived = false
        if archives, r.result == "ok", let config {
            do throws(LVSError) {
                try archive.append(r.header + config())
                archived = true
            } catch {
                Self.warnOnce("archive", "warning: the change is made, but it was not archived: \(error.message)", warn)
            }
        }
        do throws(LVSError) {
            try log.send(r.logLine(changes: changes, archived: archived || r.result != "ok"), failed: r.result != "ok",
                         fields: [("LVSH_FRONT", r.front), ("LVSH_USER", r.user), ("LVSH_RESULT", r.result)])
        } catch {
            Self.warnOnce("log", "warning: the change is made, but it was not logged: \(error.message)", warn)
        }
    }

    private static let warned = Mutex<Set<String>>([])

    private static func warnOnce(_ kind: String, _ message: String, _ warn: (String) -> Void) {
        if warned.withLock({ $0.insert(kind).inserted }) { warn(message + "\n") }
    }

    /// The front and source a batch's name stands for (Session.runBatch's names).
    public static func front(ofBatch name: String, text: String) -> (front: String, source: String) {
        switch name {
        case "console": ("console", text)
        case "command line": ("command-line", text)
        case "-c": ("batch", "-c " + text)
        case "ipvsadm": ("ipvsadm", text)
        default: ("batch", name)
        }
    }
}

extension Session {
    /// Records a committed (or failed) change of this session, when it keeps a history.
    func recordChange(front: String, source: String, steps: [String], failure: LVSError? = nil) {
        guard let history else { return }
        var r = ChangeHistory.record(front: front, source: source, steps: steps)
        if let failure { r.result = "failed: " + failure.message }
        history.record(r, changes: steps.count, config: { () throws(LVSError) in try self.runningConfig() }, warn: err)
    }

    /// `show running-config`'s text of the state as this session sees it now.
    public func runningConfig() throws(LVSError) -> String {
        try SystemCommands.configText(showContext)
    }
}
