#if canImport(Glibc)
import Glibc
#endif
import LVSModel

/// Reads the connection table of the current network namespace from /proc.
public enum ConnectionReader {
    public static func read(path: String = "/proc/net/ip_vs_conn") throws(LVSError) -> [Connection] {
        guard let text = ProcFile.read(path) else {
            throw .failed("cannot read \(path): IPVS is not loaded in this kernel (try `modprobe ip_vs`)")
        }
        return try ConnectionTable.parse(text)
    }
}

/// Whole-file reads of /proc and /sys files, which report a size of 0 and must be read to the end.
public enum ProcFile {
    public static func read(_ path: String) -> String? {
        bytes(path).map { String(decoding: $0, as: UTF8.self) }
    }

    /// The file's bytes: /proc/net/ip_vs can be megabytes, and parsers of it work on bytes.
    public static func bytes(_ path: String) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var data = [UInt8](repeating: 0, count: 64 * 1024)
        var count = 0
        while true {
            if data.count - count < 16 * 1024 { data.append(contentsOf: repeatElement(0, count: data.count)) }
            let n = data.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress! + count, $0.count - count) }
            if n < 0 {
                if errno == EINTR { continue }
                return nil
            }
            if n == 0 { break }
            count += n
        }
        data.removeSubrange(count...)
        return data
    }
}
