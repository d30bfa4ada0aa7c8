#if canImport(Glibc)
import Glibc
#endif
import LVSModel

/// Turns the kernel's errno for a read into a sentence; write failures are explained per operation by the Shell.
enum IPVSErrors {
    static func requestFailed(_ what: String, errno: Int32) -> LVSError {
        switch errno {
        case EPERM:
            return .failed("cannot \(what): permission denied. IPVS needs CAP_NET_ADMIN: run lvsh as root.", errno: errno)
        default:
            return .failed("cannot \(what): \(String(cString: strerror(errno)))", errno: errno)
        }
    }
}
