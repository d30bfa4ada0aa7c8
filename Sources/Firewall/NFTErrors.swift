#if canImport(Glibc)
import Glibc
#endif
import LVSModel

/// Turns (operation, errno) into a sentence that says what failed and what to do.
enum NFTErrors {
    static let inetUnavailable = "nftables inet family not available; use --backend iptables"

    static func permission(_ what: String, errno: Int32) -> LVSError {
        .failed("cannot \(what): permission denied; nftables needs root (CAP_NET_ADMIN) for lvsh's table: run lvsh as root", errno: errno)
    }

    /// A system call failed.
    static func system(_ what: String, errno: Int32) -> LVSError {
        if errno == EPERM || errno == EACCES { return permission(what, errno: errno) }
        return .failed("cannot \(what): \(String(cString: strerror(errno)))", errno: errno)
    }

    /// A read request was refused.
    static func request(_ what: String, _ reply: NFTReply) -> LVSError {
        let e = reply.errno
        if e == EPERM || e == EACCES { return permission(what, errno: e) }
        if e == EAFNOSUPPORT { return .failed("cannot \(what): \(inetUnavailable)", errno: e) }
        return .failed("cannot \(what): \(explanation(e, reply.message))", errno: e)
    }

    /// A message of a transaction was refused; `element` names the element the kernel blamed.
    static func refused(_ errno: Int32, what: String, element: String?, kernel: String?) -> LVSError {
        if errno == EPERM || errno == EACCES { return permission(what, errno: errno) }
        let creating = what.hasPrefix("create") || what.hasPrefix("add the rule")
        if creating && [ENOENT, EOPNOTSUPP, EAFNOSUPPORT, EPROTONOSUPPORT].contains(errno) {
            // The kernel finds no `filter`/`route` chain type for the inet family (CONFIG_NF_TABLES_INET
            // off, or only some families built, as in user-mode-linux).
            return .failed("cannot \(what): \(inetUnavailable) (\(explanation(errno, kernel)))", errno: errno)
        }
        if let element {
            switch errno {
            case EEXIST, ENOTEMPTY:
                return .failed("cannot add \(element): table inet lvsh already holds it or an overlapping element (changed outside lvsh?); `show groups` lists what is there", errno: errno)
            case ENOENT:
                return .failed("cannot delete \(element): table inet lvsh does not hold it (changed outside lvsh?); `show groups` lists what is there", errno: errno)
            default:
                return .failed("cannot \(what) (\(element)): \(explanation(errno, kernel))", errno: errno)
            }
        }
        return .failed("cannot \(what): \(explanation(errno, kernel))", errno: errno)
    }

    private static func explanation(_ errno: Int32, _ kernel: String?) -> String {
        var s = String(cString: strerror(errno))
        if let kernel, !kernel.isEmpty { s += " (kernel: \(kernel))" }
        return s
    }
}
