#if canImport(Glibc)
import Glibc
#endif
import LVSModel

/// Whole-file writes that a reader never sees half done and that leave no temporary file behind.
///
/// The text goes to an unnamed file (`O_TMPFILE`) in the target's folder; once it is complete and
/// synced it gets a hidden name, which is renamed over the target, and the folder is synced. A kill
/// at any moment leaves the old file or the new one, never part of one. Where the file system has
/// no `O_TMPFILE`, the file is written under its hidden name from the start (opened
/// `O_EXCL|O_NOFOLLOW`). Hidden names are `.NAME.lvsh-tmp-RANDOM`; their writer holds an `flock` on
/// them while it lives, and every write removes the unlocked ones of its target (left by a writer
/// that was killed with SIGKILL in the few system calls between naming and renaming).
///
/// Refused (exit 2, nothing written): a folder that does not exist (lvsh never creates folders: a
/// mistyped path must not grow a new tree), and a target that is a folder, FIFO, device or socket.
/// A target that is a symbolic link is refused too, neither written through nor replaced: lvsh runs
/// as root, and a link planted where root saves (a shared /tmp) would let anyone pick the file root
/// overwrites, while replacing the link would silently cut it from the file it points to. The
/// message names the link's target, so the user can save there. An existing file keeps its mode
/// and owner (a file with several hard links gets a new inode: the other names keep the old text).
public enum AtomicFile {
    /// Replaces, or creates, the regular file at `path` with `text`.
    public static func write(_ text: String, to path: String) throws(LVSError) {
        try write(text, to: path, unnamedFirst: true)
    }

    /// Whether `write` could write `path` now: its folder exists and the target is a regular file or
    /// absent. A batch checks this where `save` stands, before its kernel changes, and writes after them.
    public static func check(_ path: String) throws(LVSError) {
        let place = try TargetPlace(path)
        defer { place.close() }
        _ = try place.target()
    }

    /// `unnamedFirst: false` takes the path of file systems without `O_TMPFILE` (for tests); a new
    /// file gets `newMode` from its creation on (the archive's are root's alone).
    static func write(_ text: String, to path: String, unnamedFirst: Bool, newMode: mode_t = TemporaryFile.newMode) throws(LVSError) {
        let place = try TargetPlace(path)
        defer { place.close() }
        let existing = try place.target()
        place.removeStaleTemporaries()
        let temp = try TemporaryFile.create(in: place, unnamedFirst: unnamedFirst, newMode: newMode)
        // Runs last: after the rename and the folder's sync, so a held-back Ctrl-C acts only then.
        defer { temp.discard() }
        if let existing { try temp.copyOwnerAndMode(of: existing) }
        try temp.write(text)
        try temp.giveHiddenName()
        // Looked at again just before the rename: the target may have been replaced meanwhile.
        _ = try place.target()
        try temp.rename()
        try place.sync()
    }
}

/// The folder of a file to be written, opened once, so that every step works in that same folder
/// even if a folder on the way is renamed meanwhile.
package struct TargetPlace {
    /// The target as the user gave it (for messages).
    let path: String
    package let folder: String
    package let name: String
    let fd: Int32

    package init(_ path: String) throws(LVSError) {
        guard !path.isEmpty else { throw .badInput("no file given: name the file to write") }
        let slash = path.lastIndex(of: "/")
        let name = slash.map { String(path[path.index(after: $0)...]) } ?? path
        let folder = slash.map { $0 == path.startIndex ? "/" : String(path[..<$0]) } ?? "."
        guard !name.isEmpty, name != ".", name != ".." else {
            throw .badInput("cannot write \(path): it names a folder; give the path of a file")
        }
        // The hidden temporary name adds 27 bytes, and a name may have 255.
        guard name.utf8.count <= 200 else {
            throw .badInput("cannot write \(path): the file name is longer than 200 bytes; choose a shorter one")
        }
        let fd = open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw Self.folderError(errno, path: path, folder: folder) }
        self.path = path
        self.folder = folder
        self.name = name
        self.fd = fd
    }

    private static func folderError(_ e: Int32, path: String, folder: String) -> LVSError {
        switch e {
        case ENOENT:
            return .badInput("cannot write \(path): the folder \(folder) does not exist; create it first (lvsh never creates folders)")
        case ENOTDIR:
            return .badInput("cannot write \(path): \(folder) is not a folder")
        case ELOOP:
            return .badInput("cannot write \(path): too many symbolic links on the way to \(folder)")
        case EACCES:
            return .failed("cannot write \(path): permission denied on the folder \(folder); run lvsh as root or choose another folder", errno: e)
        default:
            return .failed("cannot write \(path): cannot open the folder \(folder): \(String(cString: strerror(e)))", errno: e)
        }
    }

    package func close() { _ = Glibc.close(fd) }

    /// What is at the target's name now: nil when nothing is; refused when it is not a regular file.
    func target() throws(LVSError) -> stat? {
        var st = stat()
        guard fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 else {
            if errno == ENOENT { return nil }
            throw failure("cannot look at it", errno)
        }
        let refuse = { (what: String) -> LVSError in
            .badInput("cannot write \(path): it is \(what); save writes regular files only: give the path of a file (it may not exist yet)")
        }
        switch st.st_mode & S_IFMT {
        case S_IFREG: return st
        case S_IFLNK:
            throw .badInput("cannot write \(path): it is a symbolic link (to \(linkText() ?? "?")); lvsh neither writes through "
                            + "links nor replaces them: save to the file it points to, or remove the link")
        case S_IFDIR: throw refuse("a folder")
        case S_IFIFO: throw refuse("a FIFO (named pipe)")
        case S_IFCHR, S_IFBLK: throw refuse("a device")
        case S_IFSOCK: throw refuse("a socket")
        default: throw refuse("not a regular file")
        }
    }

    private func linkText() -> String? {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let n = readlinkat(fd, name, &buffer, buffer.count - 1)
        guard n >= 0 else { return nil }
        return String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The start of the hidden names of this target's temporary files.
    var temporaryPrefix: String { "." + name + ".lvsh-tmp-" }

    /// A new hidden name for a temporary file.
    func newTemporaryName() -> String {
        let random = UInt64.random(in: 0...UInt64.max)
        let hex = String(random, radix: 16)
        return temporaryPrefix + String(repeating: "0", count: 16 - hex.count) + hex
    }

    /// Removes this target's temporary files that no live writer holds (their writer was killed).
    func removeStaleTemporaries() {
        for name in temporaryNames() { removeIfStale(name) }
    }

    private func temporaryNames() -> [String] {
        let copy = dup(fd)
        guard copy >= 0, let dir = fdopendir(copy) else { return [] }
        defer { closedir(dir) }
        rewinddir(dir)
        let prefix = temporaryPrefix
        var names: [String] = []
        while let entry = readdir(dir) {
            let n = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(cString: raw.baseAddress!.assumingMemoryBound(to: CChar.self))
            }
            if n.hasPrefix(prefix) { names.append(n) }
        }
        return names
    }

    /// Removes a temporary file whose lock is free and whose name still is the file locked. Only
    /// regular files are opened: opening a device can have effects of its own.
    private func removeIfStale(_ temp: String) {
        var named = stat(), held = stat()
        guard fstatat(fd, temp, &named, AT_SYMLINK_NOFOLLOW) == 0, named.st_mode & S_IFMT == S_IFREG else { return }
        let f = openat(fd, temp, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
        guard f >= 0 else { return }
        defer { _ = Glibc.close(f) }
        guard fstat(f, &held) == 0, flock(f, LOCK_EX | LOCK_NB) == 0,
              fstatat(fd, temp, &named, AT_SYMLINK_NOFOLLOW) == 0,
              named.st_dev == held.st_dev, named.st_ino == held.st_ino else { return }
        _ = unlinkat(fd, temp, 0)
    }

    /// Makes the rename durable: the folder's entry is what a crash would otherwise lose.
    func sync() throws(LVSError) {
        // Some file systems cannot sync a folder (EINVAL); their entries are as durable as they get.
        if fsync(fd) != 0 && errno != EINVAL {
            throw .failed("\(path) was written, but syncing its folder \(folder) failed: \(String(cString: strerror(errno))); "
                          + "the change may not survive a crash", errno: errno)
        }
    }

    /// A system failure while writing the target, with the system's reason.
    func failure(_ what: String, _ e: Int32) -> LVSError {
        switch e {
        case EACCES, EPERM:
            return .failed("cannot write \(path): \(what): permission denied; run lvsh as root or choose another folder", errno: e)
        default:
            return .failed("cannot write \(path): \(what): \(String(cString: strerror(e)))", errno: e)
        }
    }
}
