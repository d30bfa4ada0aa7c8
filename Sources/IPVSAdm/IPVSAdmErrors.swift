#if canImport(Glibc)
import Glibc
#endif
import Engine
import IPVS
import Listings
import LVSModel

/// Turns kernel refusals into sentences that say what was wrong and what to do:
/// libipvs's `ipvs_strerror` (one table of operation × errno), made actionable.
public enum IPVSAdmErrors {
    typealias Errno = KernelWords.Errno

    /// The message for one failed operation; `table` (read after the failure) lets
    /// the message name what does exist, e.g. the port a real server really has.
    public static func message(for failure: IPVSFailure, table: IPVSTable?) -> String {
        let e = failure.errno
        if e == Errno.perm || e == Errno.acces { return permissionDenied }
        switch failure.operation {
        case .addService(let s): return addService(s, errno: e)
        case .editService(let s): return editService(s, errno: e)
        case .deleteService(let k): return serviceOnly(k, errno: e, doing: "delete")
        case .zero(let k): return k.map { serviceOnly($0, errno: e, doing: "zero the counters of") } ?? generic("zero the counters", e)
        case .addRealServer(let k, let r): return addRealServer(k, r, errno: e)
        case .editRealServer(let k, let r): return editRealServer(k, r, errno: e, table: table)
        case .deleteRealServer(let k, let r): return deleteRealServer(k, r, errno: e, table: table)
        case .flush: return generic("clear the table", e)
        case .setTimeouts: return generic("set the timeouts", e)
        case .startDaemon(let d): return startDaemon(d, errno: e)
        case .stopDaemon(let role):
            if e == Errno.srch { return "no \(role.name) sync daemon is running, so there is none to stop (see -L --daemon)" }
            return generic("stop the \(role.name) sync daemon", e)
        }
    }

    /// Errors thrown by the IPVS connection itself, given the hint they need.
    public static func explain(_ error: LVSError) -> LVSError {
        guard let e = error.errno else { return error }
        // Keep the IPVS client's own explanation when it already gives the remedy.
        if (e == Errno.perm || e == Errno.acces) && !error.message.contains("CAP_NET_ADMIN") {
            return LVSError(error.code, error.message + " (" + permissionDenied + ")", errno: e)
        }
        if (e == Errno.noent || e == Errno.noprotoopt || e == Errno.protonosupport) && !error.message.contains("modprobe") {
            return LVSError(error.code, error.message + " (" + ipvsMissing + ")", errno: e)
        }
        return error
    }

    static let permissionDenied = "permission denied: IPVS needs root or the CAP_NET_ADMIN capability (run it with sudo)"
    static let ipvsMissing = "IPVS is not available: this kernel has no IPVS generic netlink family; "
        + "load it with 'modprobe ip_vs' (or use a kernel built with CONFIG_IP_VS)"

    private static func serviceMissing(_ k: ServiceKey) -> String {
        "service \(k.ipvsadmName) does not exist; create it with -A \(k.ipvsadmArgument) (see -L -n for the services)"
    }

    private static func addService(_ s: VirtualService, errno e: Int32) -> String {
        switch e {
        case Errno.exist:
            return "service \(s.key.ipvsadmName) already exists; change it with -E, or delete it with -D first"
        case Errno.noent:
            return unavailableModule(s)
        case Errno.inval where s.key.family == .v6 && !(1...128).contains(s.netmask):
            return "the IPv6 persistence prefix length \(s.netmask) is out of range: give -M 1 to 128"
        default:
            return generic("add service \(s.key.ipvsadmName)", e)
        }
    }

    private static func editService(_ s: VirtualService, errno e: Int32) -> String {
        switch e {
        case Errno.srch: return serviceMissing(s.key)
        case Errno.noent: return unavailableModule(s)
        default: return generic("change service \(s.key.ipvsadmName)", e)
        }
    }

    /// The kernel's ENOENT for a service: its scheduler or persistence engine module is missing.
    private static func unavailableModule(_ s: VirtualService) -> String {
        let knownScheduler = Schedulers.known.contains(s.scheduler) || s.scheduler == "none"
        if knownScheduler, let pe = s.persistenceEngine, !pe.isEmpty {
            return "persistence engine '\(pe)' is not available: the kernel module ip_vs_pe_\(pe) is not loaded or does not exist "
                + "(mainline Linux has only sip)"
        }
        return "scheduler '\(s.scheduler)' is not available: the kernel module ip_vs_\(s.scheduler) is not loaded or does not exist"
            + (knownScheduler ? "" : " (mainline Linux has " + Schedulers.known.joined(separator: ", ") + ")")
    }

    private static func serviceOnly(_ k: ServiceKey, errno e: Int32, doing: String) -> String {
        e == Errno.srch ? "service \(k.ipvsadmName) does not exist, so there is nothing to \(doing.split(separator: " ")[0]); see -L -n for the services"
            : generic("\(doing) service \(k.ipvsadmName)", e)
    }

    private static func realServerName(_ r: RealServerKey) -> String { IPVSAdmFormat.endpoint(r.address, r.port) }

    private static func addRealServer(_ k: ServiceKey, _ r: RealServer, errno e: Int32) -> String {
        let name = realServerName(r.identity)
        switch e {
        case Errno.srch:
            return serviceMissing(k) + ", then add the real server"
        case Errno.exist:
            return "real server \(name) is already in service \(k.ipvsadmName); change it with -e instead of -a"
        case Errno.range:
            return thresholdMessage(r) ?? generic("add real server \(name)", e)
        case Errno.inval:
            return invalidRealServer(k, r) ?? generic("add real server \(name) to \(k.ipvsadmName)", e)
        default:
            return generic("add real server \(name) to \(k.ipvsadmName)", e)
        }
    }

    private static func editRealServer(_ k: ServiceKey, _ r: RealServer, errno e: Int32, table: IPVSTable?) -> String {
        let name = realServerName(r.identity)
        switch e {
        case Errno.srch:
            return serviceMissing(k)
        case Errno.noent:
            // The kernel finds a real server by address and port; -e cannot move it to another port.
            if let other = sameAddress(as: r.identity, in: k, table: table) {
                return "real server \(name) is not in service \(k.ipvsadmName). A real server is identified by its address and port, "
                    + "so -e cannot change the port: this service has \(r.address) as \(realServerName(other.identity)). "
                    + "To move it to port \(r.port), delete it and add it again:\n"
                    + "  ipvsadm -d \(k.ipvsadmArgument) -r \(realServerName(other.identity))\n"
                    + "  ipvsadm \(addCommand(k, r))"
            }
            return "real server \(name) is not in service \(k.ipvsadmName); -e changes only existing real servers, "
                + "so add it with -a (see -L -n for the real servers)"
        case Errno.range:
            return thresholdMessage(r) ?? generic("change real server \(name)", e)
        case Errno.inval:
            return invalidRealServer(k, r) ?? generic("change real server \(name) in \(k.ipvsadmName)", e)
        default:
            return generic("change real server \(name) in \(k.ipvsadmName)", e)
        }
    }

    private static func deleteRealServer(_ k: ServiceKey, _ r: RealServerKey, errno e: Int32, table: IPVSTable?) -> String {
        switch e {
        case Errno.srch:
            return serviceMissing(k)
        case Errno.noent:
            var text = "real server \(realServerName(r)) is not in service \(k.ipvsadmName), so there is nothing to delete"
            if let other = sameAddress(as: r, in: k, table: table) {
                text += "; the service has \(r.address) as \(realServerName(other.identity)): delete that with -r \(realServerName(other.identity))"
            }
            return text
        default:
            return generic("delete real server \(realServerName(r)) from \(k.ipvsadmName)", e)
        }
    }

    /// A real server of the service with the same address and another port, if any.
    private static func sameAddress(as r: RealServerKey, in k: ServiceKey, table: IPVSTable?) -> RealServer? {
        table?[k]?.realServers.map(\.server).first { $0.address == r.address && $0.port != r.port }
    }

    /// The `-a` command that adds `r`, with its thresholds.
    static func addCommand(_ k: ServiceKey, _ r: RealServer) -> String {
        var line = IPVSAdmSave.addServerRule(serviceArgument: k.ipvsadmArgument, r)
        if r.upperThreshold != 0 { line += " -x \(r.upperThreshold)" }
        if r.lowerThreshold != 0 { line += " -y \(r.lowerThreshold)" }
        return line
    }

    private static func thresholdMessage(_ r: RealServer) -> String? {
        if r.weight < 0 { return "the weight \(r.weight) is negative; give -w 0 or more" }
        guard r.lowerThreshold > r.upperThreshold else { return nil }
        return "the lower threshold (-y \(r.lowerThreshold)) is above the upper threshold (-x \(r.upperThreshold)); "
            + (r.upperThreshold == 0 ? "-x 0 means no upper threshold, so give -x as well, above -y" : "give -y below -x")
    }

    /// Why the kernel calls a real server invalid, when the request shows it.
    private static func invalidRealServer(_ k: ServiceKey, _ r: RealServer) -> String? {
        if let reason = IPVSRules.unicastProblem(r.address) {
            return "real server address \(r.address) is \(reason); IPVS needs a unicast address"
        }
        if r.address.family != k.family {
            return "real server \(r.address) is \(r.address.family) but service \(k.ipvsadmName) is \(k.family): "
                + "mixed families work only with tunneling (-i) and while no sync daemon runs"
        }
        if r.forwarding == .tunnel && r.tunnelType == .gue && r.tunnelPort == 0 {
            return "--tun-type gue needs --tun-port PORT"
        }
        return nil
    }

    private static func startDaemon(_ d: SyncDaemon, errno e: Int32) -> String {
        switch e {
        case Errno.exist:
            return "the \(d.role.name) sync daemon is already running; stop it first with --stop-daemon \(d.role.name) (see -L --daemon)"
        case Errno.nodev:
            return "interface '\(d.interface)' does not exist; name the sync interface with --mcast-interface"
        case Errno.inval:
            return "the kernel refused the \(d.role.name) sync daemon: the multicast group must be a multicast address, "
                + "and no service may have real servers of the other address family (sync cannot carry them)"
        default:
            return generic("start the \(d.role.name) sync daemon", e)
        }
    }

    static func generic(_ attempt: String, _ e: Int32) -> String { KernelWords.generic(attempt, e) }
}

/// ipvsadm's wording of refusals, for `lvsh ipvsadm` and the ipvsadm lines of lvsh batches.
public struct IPVSAdmWording: RefusalWording {
    public init() {}

    public func message(for failure: IPVSFailure, table: IPVSTable?) -> String {
        IPVSAdmErrors.message(for: failure, table: table)
    }
}
