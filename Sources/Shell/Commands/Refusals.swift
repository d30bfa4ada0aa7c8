import Engine
import IPVS
import LVSModel

/// IPVS refusals in lvsh's language: the objects as lvsh names them and the lvsh command that fixes it.
/// ipvsadm's wording (IPVSAdmErrors) names -A, -e and -r, which mean nothing here.
struct LVSHWording: RefusalWording {
    typealias Errno = KernelWords.Errno

    func message(for failure: IPVSFailure, table: IPVSTable?) -> String {
        let e = failure.errno
        if e == Errno.perm || e == Errno.acces { return "permission denied: IPVS needs root or the CAP_NET_ADMIN capability" }
        switch failure.operation {
        case .addService(let s):
            if e == Errno.exist { return "service \(name(s.key)) already exists" }
            return KernelWords.generic("add service \(name(s.key))", e)
        case .editService(let s):
            return e == Errno.srch ? missing(s.key) : KernelWords.generic("change service \(name(s.key))", e)
        case .deleteService(let k):
            return e == Errno.srch ? "service \(name(k)) does not exist, so there is nothing to remove (see `show services`)"
                : KernelWords.generic("remove service \(name(k))", e)
        case .zero(let k):
            if let k, e == Errno.srch { return missing(k) }
            return KernelWords.generic("zero the counters", e)
        case .addRealServer(let k, let r), .editRealServer(let k, let r):
            return real(k, r, errno: e, adding: { if case .addRealServer = failure.operation { true } else { false } }())
        case .deleteRealServer(let k, let r):
            if e == Errno.srch { return missing(k) }
            guard e == Errno.noent else { return KernelWords.generic("remove real server \(endpoint(r)) from \(name(k))", e) }
            var text = "real server \(endpoint(r)) is not in service \(name(k)), so there is nothing to remove"
            if let other = sameAddress(as: r, in: k, table: table) { text += "; the service has \(r.address) as \(endpoint(other.identity))" }
            return text
        case .flush: return KernelWords.generic("remove every service", e)
        case .setTimeouts: return KernelWords.generic("set the timeouts", e)
        case .startDaemon(let d):
            if e == Errno.exist { return "the \(d.role.name) sync daemon is already running; stop it first with `no sync \(d.role.name)`" }
            if e == Errno.nodev { return "interface '\(d.interface)' does not exist; name the sync interface" }
            return KernelWords.generic("start the \(d.role.name) sync daemon", e)
        case .stopDaemon(let role):
            return e == Errno.srch ? "no \(role.name) sync daemon is running, so there is none to stop (see `show sync`)"
                : KernelWords.generic("stop the \(role.name) sync daemon", e)
        }
    }

    private func real(_ k: ServiceKey, _ r: RealServer, errno e: Int32, adding: Bool) -> String {
        let name = endpoint(r.identity)
        switch e {
        case Errno.srch: return missing(k)
        case Errno.exist: return "real server \(name) is already in service \(self.name(k))"
        case Errno.noent: return "real server \(name) is not in service \(self.name(k))"
        case Errno.range where r.lowerThreshold > r.upperThreshold:
            return "the lower threshold (\(r.lowerThreshold)) is above the upper threshold (\(r.upperThreshold)); give `upper` above `lower`"
        case Errno.inval:
            if let reason = IPVSRules.unicastProblem(r.address) { return "real server address \(r.address) is \(reason); IPVS needs a unicast address" }
            if r.address.family != k.family {
                return "real server \(r.address) is \(r.address.family) but service \(self.name(k)) is \(k.family): "
                    + "mixed families work only with tunnelling (`tun`) and while no sync daemon runs"
            }
            return KernelWords.generic("\(adding ? "add" : "change") real server \(name) of \(self.name(k))", e)
        default:
            return KernelWords.generic("\(adding ? "add" : "change") real server \(name) of \(self.name(k))", e)
        }
    }

    private func missing(_ k: ServiceKey) -> String {
        "service \(name(k)) does not exist; create it first with `service \(reference(k)) ...` (see `show services`)"
    }

    /// How the lvsh language names the service in a command: `tcp 10.0.0.1:80`, `fwmark 1000 ipv6`.
    func reference(_ k: ServiceKey) -> String {
        switch k {
        case .inet(let p, let a, let port): "\(p) \(PlanDescription.endpoint(a, port))"
        case .fwmark(let m, let f): f == .v6 ? "fwmark \(m) ipv6" : "fwmark \(m)"
        }
    }

    private func name(_ k: ServiceKey) -> String { PlanDescription.name(k) }
    private func endpoint(_ r: RealServerKey) -> String { PlanDescription.endpoint(r.address, r.port) }

    private func sameAddress(as r: RealServerKey, in k: ServiceKey, table: IPVSTable?) -> RealServer? {
        table?[k]?.realServers.map(\.server).first { $0.address == r.address && $0.port != r.port }
    }
}
