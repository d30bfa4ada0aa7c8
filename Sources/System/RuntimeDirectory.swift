#if canImport(Glibc)
import Glibc
#endif
import LVSModel

/// /run/lvsh/net-INODE/: runtime state of one network namespace — the writer lock and a pending
/// `apply --confirm` rollback. The namespace's inode names it, so every process in it finds it.
public struct RuntimeDirectory {
    public let path: String

    public init(path: String) { self.path = path }

    /// The folder of the calling thread's network namespace (created on demand). The base and the
    /// folder must be root's folders, not links, and writable by root alone (0700 or 0755): the lock
    /// and the rollback state in them decide what lvsh applies as root, so lvsh refuses a folder that
    /// someone else could have prepared.
    public static func current(base: String = defaultBase) throws(LVSError) -> RuntimeDirectory {
        let name = "net-\(try namespaceInode())"
        let dir = RuntimeDirectory(path: "\(base)/\(name)")
        let baseFD = try checkedFolder(base, in: AT_FDCWD, mode: 0o755, shown: base)
        defer { close(baseFD) }
        close(try checkedFolder(name, in: baseFD, mode: 0o700, shown: dir.path))
        return dir
    }

    /// The folder of the calling thread's network namespace when it exists (checked as `current`
    /// checks it), nil when it does not: a front that only looks for a running daemon creates nothing.
    public static func existing(base: String = defaultBase) throws(LVSError) -> RuntimeDirectory? {
        let path = "\(base)/net-\(try namespaceInode())"
        var st = stat()
        guard lstat(path, &st) == 0 || errno != ENOENT else { return nil }
        return try current(base: base)
    }

    private static func namespaceInode() throws(LVSError) -> UInt {
        var st = stat()
        guard stat("/proc/thread-self/ns/net", &st) == 0 || stat("/proc/self/ns/net", &st) == 0 else {
            throw .failed("cannot identify the network namespace: \(String(cString: strerror(errno)))")
        }
        return UInt(st.st_ino)
    }

    /// LVSH_RUNTIME_DIR when set, else /run/lvsh: tests run lvsh in namespaces of their own, and
    /// the machine's /run is not theirs to write.
    public static var defaultBase: String {
        if let dir = getenv("LVSH_RUNTIME_DIR"), dir.pointee != 0 { return String(cString: dir) }
        return "/run/lvsh"
    }

    /// `O_PATH`, hidden from Swift by Glibc (it needs _GNU_SOURCE). A folder opened with it needs no
    /// read permission: a reader that is not root (`apply --check`) may still check it.
    private static let pathOnly: Int32 = 0o10000000

    /// Creates `name` in `parent` if missing, then opens it without following a link and checks it.
    private static func checkedFolder(_ name: String, in parent: Int32, mode: mode_t, shown: String) throws(LVSError) -> Int32 {
        if mkdirat(parent, name, mode) == 0 {
            // The umask may have taken bits off; the check below wants the mode exactly.
            _ = fchmodat(parent, name, mode, 0)
        } else if errno != EEXIST {
            throw .failed("cannot create \(shown): \(String(cString: strerror(errno)))", errno: errno)
        }
        let fd = openat(parent, name, pathOnly | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else {
            let e = errno
            // O_NOFOLLOW on a link gives ELOOP, or ENOTDIR with O_DIRECTORY.
            if e == ELOOP || e == ENOTDIR {
                throw .failed("\(shown) is not a folder (a symbolic link or a file); lvsh refuses it: remove it, and lvsh creates the folder again", errno: e)
            }
            throw .failed("cannot open \(shown): \(String(cString: strerror(e)))", errno: e)
        }
        var st = stat()
        guard fstat(fd, &st) == 0 else {
            let e = errno
            close(fd)
            throw .failed("cannot look at \(shown): \(String(cString: strerror(e)))", errno: e)
        }
        let permissions = st.st_mode & 0o7777
        guard st.st_uid == 0, permissions == 0o700 || permissions == 0o755 else {
            close(fd)
            throw .failed("\(shown) belongs to uid \(st.st_uid) with mode \(String(permissions, radix: 8)); lvsh keeps its "
                          + "runtime state only in root's folders with mode 700 or 755: fix it (chown root:root \(shown); "
                          + "chmod \(String(mode, radix: 8)) \(shown)) or remove it")
        }
        return fd
    }

    public var lockPath: String { path + "/lock" }
    public var rollbackPath: String { path + "/rollback.lvsh" }
    public var pendingPath: String { path + "/pending" }
    /// Names the namespace's `lvsh daemon` (which holds the lock for its whole life).
    public var daemonPath: String { path + "/daemon.pid" }

    /// The pid of this namespace's daemon, when the file names a live lvsh process.
    public func runningDaemon() -> Int32? {
        guard let text = ProcFile.read(daemonPath),
              let pid = Int32(text.split(separator: "\n").first ?? ""), pid > 0, kill(pid, 0) == 0 || errno == EPERM,
              let comm = ProcFile.read("/proc/\(pid)/comm"), comm.hasPrefix("lvsh") else { return nil }
        return pid
    }
}

/// The writer lock of a namespace: two lvsh processes never interleave their changes.
public final class NamespaceLock {
    private let fd: Int32

    /// Waits for the lock (flock is released by the kernel when the process dies, so no stale locks).
    public init(_ dir: RuntimeDirectory, wait: Bool = true) throws(LVSError) {
        // Not through a link: the folder is root's alone, but the lock is opened as root.
        fd = open(dir.lockPath, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw .failed("cannot open \(dir.lockPath): \(String(cString: strerror(errno)))") }
        var blocking = false
        while flock(fd, LOCK_EX | (blocking ? 0 : LOCK_NB)) != 0 {
            // Kept before anything else runs: looking for a daemon's pid file sets errno too.
            let e = errno
            if e == EINTR { continue }
            // A daemon holds the lock for its whole life: waiting for it would never end.
            if e == EWOULDBLOCK, let pid = dir.runningDaemon() {
                close(fd)
                throw .failed("lvsh daemon (pid \(pid)) manages this network namespace and is its only writer: "
                              + "change the file it keeps and reload it (`systemctl reload lvsh`, or `kill -HUP \(pid)`)")
            }
            if e == EWOULDBLOCK && wait && !blocking {
                blocking = true
                continue
            }
            close(fd)
            throw .failed(e == EWOULDBLOCK ? "another lvsh is changing this namespace; try again when it is done"
                                            : "cannot lock \(dir.lockPath): \(String(cString: strerror(e)))")
        }
    }

    deinit { close(fd) }
}
