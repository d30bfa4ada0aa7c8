#if canImport(Glibc)
import Glibc
#endif
import LVSModel
import System

/// Reads the connection table of the current network namespace from /proc.
public enum ConnectionReader {
    public static func read(path: String = "/proc/net/ip_vs_conn") throws(LVSError) -> [Connection] {
        guard let text = ProcFile.read(path) else {
            throw .failed("cannot read \(path): IPVS is not loaded in this kernel (try `modprobe ip_vs`)")
        }
        return try ConnectionTable.parse(text)
    }
}
