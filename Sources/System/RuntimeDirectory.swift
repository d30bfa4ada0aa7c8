#if canImport(Glibc)
import Glibc
#endif
import LVSModel

/// /run/lvsh/net-INODE/: runtime state of one network namespace — the writer lock and a pending
/// `apply --confirm` rollback. The namespace's inode names it, so every process in it finds it.
public struct RuntimeDirectory {
    public let path: String

    public init(path: String) { self.path = path }

    /// The folder of the calling thread's network namespace (created on demand).
    public static func current(base: String = "/run/lvsh") throws(LVSError) -> RuntimeDirectory {
        var st = stat()
        guard stat("/proc/thread-self/ns/net", &st) == 0 || stat("/proc/self/ns/net", &st) == 0 else {
            throw .failed("cannot identify the network namespace: \(String(cString: strerror(errno)))")
        }
        let dir = RuntimeDirectory(path: "\(base)/net-\(st.st_ino)")
        _ = mkdir(base, 0o755)
        if mkdir(dir.path, 0o700) != 0 && errno != EEXIST {
            throw .failed("cannot create \(dir.path): \(String(cString: strerror(errno)))")
        }
        return dir
    }

    public var lockPath: String { path + "/lock" }
    public var rollbackPath: String { path + "/rollback.lvsh" }
    public var pendingPath: String { path + "/pending" }
}

/// The writer lock of a namespace: two lvsh processes never interleave their changes.
public final class NamespaceLock {
    private let fd: Int32

    /// Waits for the lock (flock is released by the kernel when the process dies, so no stale locks).
    public init(_ dir: RuntimeDirectory, wait: Bool = true) throws(LVSError) {
        fd = open(dir.lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw .failed("cannot open \(dir.lockPath): \(String(cString: strerror(errno)))") }
        while flock(fd, LOCK_EX | (wait ? 0 : LOCK_NB)) != 0 {
            if errno == EINTR { continue }
            let e = errno
            close(fd)
            throw .failed(e == EWOULDBLOCK ? "another lvsh is changing this namespace; try again when it is done"
                                            : "cannot lock \(dir.lockPath): \(String(cString: strerror(e)))")
        }
    }

    deinit { close(fd) }
}
