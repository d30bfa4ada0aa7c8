#if canImport(Glibc)
import Glibc
#endif
import LVSModel

/// Whether a failed IPVS read means "this kernel has no IPVS", the one failure after which a reader
/// may go on with the groups alone (no fwmark service can exist then).
package enum KernelIPVS {
    /// True when `error` came from connecting, not from a request the kernel refused (those carry
    /// an errno, e.g. EPERM for a user without CAP_NET_ADMIN), and the namespace's /proc/net has no
    /// ip_vs: IPVS creates that file in every namespace once it is in the kernel.
    package static func isAbsent(after error: LVSError) -> Bool {
        guard error.errno == nil, access("/proc/net", F_OK) == 0 else { return false }
        return access("/proc/net/ip_vs", F_OK) != 0 && errno == ENOENT
    }
}
