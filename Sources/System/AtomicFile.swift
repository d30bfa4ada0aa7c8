#if canImport(Glibc)
import Glibc
#endif
import LVSModel

/// Whole-file writes that never leave a half-written file: temp file, fsync, rename.
public enum AtomicFile {
    public static func write(_ text: String, to path: String) throws(LVSError) {
        let dir = path.split(separator: "/", omittingEmptySubsequences: false).dropLast().joined(separator: "/")
        if !dir.isEmpty { _ = mkdir(dir, 0o755) }
        let temp = path + ".tmp.\(getpid())"
        let fd = open(temp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw .failed("cannot write \(path): \(String(cString: strerror(errno)))", errno: errno) }
        var ok = true
        var text = text
        text.withUTF8 { b in
            var off = 0
            while off < b.count {
                let n = Glibc.write(fd, b.baseAddress! + off, b.count - off)
                if n < 0 { if errno == EINTR { continue }; ok = false; return }
                off += n
            }
        }
        if ok && fsync(fd) != 0 { ok = false }
        let e = errno
        close(fd)
        guard ok, rename(temp, path) == 0 else {
            unlink(temp)
            throw .failed("cannot write \(path): \(String(cString: strerror(ok ? errno : e)))", errno: e)
        }
    }
}
