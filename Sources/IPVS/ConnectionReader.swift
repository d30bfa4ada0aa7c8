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
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var data: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 256 * 1024)
        while true {
            let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                return nil
            }
            if n == 0 { break }
            data.append(contentsOf: chunk[0..<n])
        }
        return String(decoding: data, as: UTF8.self)
    }
}
