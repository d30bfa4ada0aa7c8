#if canImport(Glibc)
import Glibc
#endif
import LVSModel

/// STATE/archive/: the configurations lvsh committed, newest last, the last `keep` of them. Each is
/// one file, `SEQUENCE.lvsh` (ten digits, counting up for ever), written atomically with mode 0600 in
/// a folder of mode 0700: they hold the whole configuration and decide what `rollback` applies as
/// root, so the folder must be the caller's own (root's) and not a link. Writers take the folder's
/// `.lock` (flock), so two lvsh processes committing at once get two numbers and the pruning of one
/// never removes the other's file.
public struct ConfigArchive: Sendable {
    /// LVSH_STATE_DIR, or /var/lib/lvsh (DESIGN.md).
    public let base: String
    /// How many configurations stay.
    public let keep: Int

    public static let defaultBase = "/var/lib/lvsh"
    public static let defaultKeep = 50

    public init(base: String, keep: Int = defaultKeep) {
        self.base = base
        self.keep = max(1, keep)
    }

    /// The archive of LVSH_STATE_DIR when set (tests always set it), else of /var/lib/lvsh.
    public static func standard() -> ConfigArchive {
        if let dir = getenv("LVSH_STATE_DIR"), dir.pointee != 0 { return ConfigArchive(base: String(cString: dir)) }
        return ConfigArchive(base: defaultBase)
    }

    public var folder: String { base + "/archive" }

    /// One stored configuration: its sequence number and file.
    public struct Entry: Sendable, Hashable {
        public var sequence: Int
        public var path: String
    }

    /// Stores `text` as the newest configuration and removes those beyond `keep`; its entry.
    @discardableResult
    public func append(_ text: String) throws(LVSError) -> Entry {
        let fd = try openFolder(create: true)!
        defer { close(fd) }
        let lock = try takeLock(fd)
        defer { close(lock) }
        let sequences = try listSequences(fd)
        let next = (sequences.last ?? 0) + 1
        let entry = Entry(sequence: next, path: folder + "/" + Self.name(next))
        try AtomicFile.write(text, to: entry.path, unnamedFirst: true, newMode: 0o600)
        for old in (sequences + [next]).dropLast(keep) { _ = unlinkat(fd, Self.name(old), 0) }
        return entry
    }

    /// The stored configurations, newest first: index N is `rollback N`'s (0 the current one).
    /// Empty when nothing was archived yet.
    public func entries() throws(LVSError) -> [Entry] {
        guard let fd = try openFolder(create: false) else { return [] }
        defer { close(fd) }
        return try listSequences(fd).reversed().map { Entry(sequence: $0, path: folder + "/" + Self.name($0)) }
    }

    /// The text of entry `n` (counted back from the newest), or an error naming what exists.
    public func text(_ n: Int) throws(LVSError) -> String {
        let all = try entries()
        guard n >= 0, n < all.count else {
            throw .badInput(all.isEmpty ? "the configuration archive \(folder) is empty: nothing was committed since it was started"
                            : "no archived configuration \(n): the archive holds 0 to \(all.count - 1) (`show archive` lists them)")
        }
        return try InputFile.read(all[n].path)
    }

    /// The first `bytes` of an entry (its header), without reading a large configuration whole.
    public func head(of entry: Entry, bytes: Int = 4096) -> String {
        let fd = open(entry.path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else { return "" }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: bytes)
        var filled = 0
        while filled < bytes {
            let n = buffer[filled...].withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            filled += n
        }
        return String(decoding: buffer[..<filled], as: UTF8.self)
    }

    static func name(_ sequence: Int) -> String {
        let digits = String(sequence)
        return String(repeating: "0", count: max(0, 10 - digits.count)) + digits + ".lvsh"
    }

    static func sequence(of name: String) -> Int? {
        guard name.hasSuffix(".lvsh"), name.utf8.count == 15 else { return nil }
        let digits = name.dropLast(5)
        guard digits.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        return Int(digits)
    }

    /// Opens the archive folder, creating it (and the state folder, not its parents) when `create`;
    /// nil when it does not exist and `create` is false. Refuses a link, a non-folder, and a folder
    /// that others could read or write or that is not the caller's.
    private func openFolder(create: Bool) throws(LVSError) -> Int32? {
        if create {
            if mkdir(base, 0o755) != 0 && errno != EEXIST {
                throw .failed("cannot create the state folder \(base): \(String(cString: strerror(errno))) (LVSH_STATE_DIR sets another)", errno: errno)
            }
            if mkdir(folder, 0o700) == 0 {
                // The umask may have taken bits off; the check below wants them exactly.
                _ = chmod(folder, 0o700)
            } else if errno != EEXIST {
                throw .failed("cannot create the configuration archive \(folder): \(String(cString: strerror(errno)))", errno: errno)
            }
        }
        let fd = open(folder, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else {
            let e = errno
            if e == ENOENT && !create { return nil }
            if e == ELOOP || e == ENOTDIR {
                throw .failed("the configuration archive \(folder) is not a folder (a symbolic link or a file); lvsh refuses it: "
                              + "remove it, and lvsh creates the folder again", errno: e)
            }
            throw .failed("cannot open the configuration archive \(folder): \(String(cString: strerror(e)))", errno: e)
        }
        var st = stat()
        guard fstat(fd, &st) == 0 else {
            let e = errno
            close(fd)
            throw .failed("cannot look at the configuration archive \(folder): \(String(cString: strerror(e)))", errno: e)
        }
        let permissions = st.st_mode & 0o7777
        guard st.st_uid == geteuid(), permissions == 0o700 else {
            close(fd)
            throw .failed("the configuration archive \(folder) belongs to uid \(st.st_uid) with mode \(String(permissions, radix: 8)); "
                          + "it holds whole configurations that rollback applies, so lvsh keeps it only as its own with mode 700: "
                          + "fix it (chown \(geteuid()) \(folder); chmod 700 \(folder)) or remove it")
        }
        return fd
    }

    /// The folder's writer lock (released when the descriptor closes, or the process dies).
    private func takeLock(_ fd: Int32) throws(LVSError) -> Int32 {
        let lock = openat(fd, ".lock", O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard lock >= 0 else {
            throw .failed("cannot open \(folder)/.lock: \(String(cString: strerror(errno)))", errno: errno)
        }
        while flock(lock, LOCK_EX) != 0 {
            guard errno == EINTR else {
                let e = errno
                close(lock)
                throw .failed("cannot lock \(folder)/.lock: \(String(cString: strerror(e)))", errno: e)
            }
        }
        return lock
    }

    /// The sequence numbers stored, ascending.
    private func listSequences(_ fd: Int32) throws(LVSError) -> [Int] {
        let copy = dup(fd)
        guard copy >= 0, let dir = fdopendir(copy) else {
            throw .failed("cannot list the configuration archive \(folder): \(String(cString: strerror(errno)))", errno: errno)
        }
        defer { closedir(dir) }
        rewinddir(dir)
        var sequences: [Int] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(cString: raw.baseAddress!.assumingMemoryBound(to: CChar.self))
            }
            if let n = Self.sequence(of: name) { sequences.append(n) }
        }
        return sequences.sorted()
    }
}
