#if canImport(Glibc)
import Glibc
#endif
import LVSModel

/// Sysctls through /proc/sys: `net.ipv4.ip_forward` is /proc/sys/net/ipv4/ip_forward.
public enum ProcSysctl {
    public static func path(_ name: String) -> String {
        "/proc/sys/" + name.split(separator: ".").joined(separator: "/")
    }

    public static func read(_ name: String) -> String? {
        // Multi-number values come tab-separated ("3\t50"); lvsh shows and writes them with a space.
        ProcFile.read(path(name)).map { $0.split(separator: "\n").first?.split(whereSeparator: { $0 == "\t" || $0 == " " }).joined(separator: " ") ?? "" }
    }

    public static func write(_ name: String, _ value: String) throws(LVSError) {
        let fd = open(path(name), O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else {
            let e = errno
            throw .failed("cannot set \(name): \(String(cString: strerror(e)))\(e == EACCES || e == EPERM ? " (run lvsh as root)" : "")", errno: e)
        }
        defer { close(fd) }
        let text = value + "\n"
        let n = text.utf8CString.withUnsafeBufferPointer { Glibc.write(fd, $0.baseAddress, $0.count - 1) }
        if n < 0 {
            let e = errno
            throw .failed("the kernel refused \(name) = \(value): \(String(cString: strerror(e)))", errno: e)
        }
    }
}
