import IPVS
import Shell
import LVSModel
import Listings

/// An in-memory IPVS that answers as the kernel does (net/netfilter/ipvs/ip_vs_ctl.c):
/// the same errno for the same mistake, checks in the kernel's order, and it goes on
/// after a failed operation. Written apart from lvsh's own model so each checks the other.
final class FakeIPVS: IPVSControl {
    var ipvsInfo = IPVSInfo(version: 0x010201, connectionTableSize: 4096)
    var services: [ServiceStatus] = []
    var timeoutValues = Timeouts.kernelDefault
    var runningDaemons: [SyncDaemon] = []
    /// Scheduler and persistence-engine modules the kernel can load.
    var schedulers: Set<String> = ["rr", "wrr", "lc", "wlc", "lblc", "lblcr", "dh", "sh", "sed", "nq", "fo", "ovf", "mh", "twos"]
    var persistenceEngines: Set<String> = ["sip"]
    var interfaces: Set<String> = ["eth0", "eth1", "lo"]
    /// Every batch passed to execute, in order.
    private(set) var batches: [[IPVSOperation]] = []
    /// Makes the connection itself fail, as when IPVS is missing or the caller lacks CAP_NET_ADMIN.
    var connectionError: LVSError?
    /// Extra refusals, e.g. a module that fails to load: checked before the kernel's rules.
    var refuse: (IPVSOperation) -> Int32? = { _ in nil }

    enum E {
        static let noent: Int32 = 2, srch: Int32 = 3, exist: Int32 = 17, nodev: Int32 = 19, inval: Int32 = 22, range: Int32 = 34
    }

    init() {}

    init(_ state: ReferenceState) {
        ipvsInfo = state.info
        services = state.table.services
        timeoutValues = state.timeouts
        runningDaemons = state.daemons
    }

    func info() throws(LVSError) -> IPVSInfo {
        if let connectionError { throw connectionError }
        return ipvsInfo
    }

    func table(_ detail: TableDetail) throws(LVSError) -> IPVSTable {
        if let connectionError { throw connectionError }
        // The kernel reports every service it holds as hashed.
        return IPVSTable(services: services.map { s in
            var s = s
            s.service.flags.insert(.hashed)
            return s
        })
    }

    func timeouts() throws(LVSError) -> Timeouts {
        if let connectionError { throw connectionError }
        return timeoutValues
    }

    func daemons() throws(LVSError) -> [SyncDaemon] {
        if let connectionError { throw connectionError }
        // The kernel lists the master first.
        return runningDaemons.sorted { $0.role.rawValue < $1.role.rawValue }
    }

    func execute(_ operations: [IPVSOperation]) throws(LVSError) -> [IPVSFailure?] {
        if let connectionError { throw connectionError }
        batches.append(operations)
        return operations.map { op in run(op).map { IPVSFailure(operation: op, errno: $0) } }
    }

    /// The current table as `ipvsadm -S -n` prints it.
    var saved: String { IPVSAdmSave.rules(IPVSTable(services: services)) }

    private func find(_ key: ServiceKey) -> Int? { services.firstIndex { $0.service.key == key } }

    private func run(_ op: IPVSOperation) -> Int32? {
        if let e = refuse(op) { return e }
        switch op {
        case .addService(let s):
            // ip_vs_genl_set_cmd: an existing service is EEXIST before anything else.
            if find(s.key) != nil { return E.exist }
            if let e = checkService(s) { return e }
            var s = s
            s.flags.remove(.hashed)
            services.append(ServiceStatus(service: s))
        case .editService(let s):
            guard let i = find(s.key) else { return E.srch }
            if let e = checkService(s) { return e }
            services[i].service = s
        case .deleteService(let k):
            guard let i = find(k) else { return E.srch }
            services.remove(at: i)
        case .addRealServer(let k, let r), .editRealServer(let k, let r):
            guard let i = find(k) else { return E.srch }
            if r.address.family != k.family && (!runningDaemons.isEmpty || r.forwarding != .tunnel) { return E.inval }
            if r.weight < 0 || r.lowerThreshold > r.upperThreshold { return E.range }
            if r.forwarding == .tunnel && r.tunnelType == .gue && r.tunnelPort == 0 { return E.inval }
            let j = services[i].realServers.firstIndex { $0.server.address == r.address && $0.server.port == r.port }
            if case .addRealServer = op {
                if j != nil { return E.exist }
                if !isUnicast(r.address) { return E.inval }
                services[i].realServers.append(RealServerStatus(server: r))
            } else {
                guard let j else { return E.noent }
                services[i].realServers[j].server = r
            }
        case .deleteRealServer(let k, let rk):
            guard let i = find(k) else { return E.srch }
            guard let j = services[i].realServers.firstIndex(where: { $0.server.address == rk.address && $0.server.port == rk.port }) else {
                return E.noent
            }
            services[i].realServers.remove(at: j)
        case .flush:
            services = []
        case .zero(let k):
            let targets = k.map { key in find(key).map { [$0] } ?? [] } ?? Array(services.indices)
            if k != nil && targets.isEmpty { return E.srch }
            for i in targets {
                services[i].stats = Stats()
                for j in services[i].realServers.indices { services[i].realServers[j].stats = Stats() }
            }
        case .setTimeouts(let t):
            if t.tcp > 0 { timeoutValues.tcp = t.tcp }
            if t.tcpFin > 0 { timeoutValues.tcpFin = t.tcpFin }
            if t.udp > 0 { timeoutValues.udp = t.udp }
        case .startDaemon(let d):
            if let g = d.group, g.family == .v4 ? g.v4Value >> 28 != 0xe : g.high >> 56 != 0xff { return E.inval }
            if services.contains(where: { s in s.realServers.contains { $0.server.address.family != s.service.key.family } }) { return E.inval }
            if runningDaemons.contains(where: { $0.role == d.role }) { return E.exist }
            if !interfaces.contains(d.interface) { return E.nodev }
            runningDaemons.append(d)
        case .stopDaemon(let role):
            guard let i = runningDaemons.firstIndex(where: { $0.role == role }) else { return E.srch }
            runningDaemons.remove(at: i)
        }
        return nil
    }

    /// ip_vs_add_service / ip_vs_edit_service: scheduler ("none" is none), engine, IPv6 prefix.
    private func checkService(_ s: VirtualService) -> Int32? {
        if s.scheduler != "none" && !schedulers.contains(s.scheduler) { return E.noent }
        if let pe = s.persistenceEngine, !pe.isEmpty, !persistenceEngines.contains(pe) { return E.noent }
        if s.key.family == .v6 && !(1...128).contains(s.netmask) { return E.inval }
        return nil
    }

    /// ip_vs_new_dest: inet_addr_type must be local or unicast; IPv6 must be unicast.
    private func isUnicast(_ a: IPAddress) -> Bool {
        switch a.family {
        case .v4: return a.v4Value >> 24 != 0 && a.v4Value != 0xffff_ffff && a.v4Value >> 28 != 0xe
        case .v6: return !a.isZero && a.high >> 56 != 0xff && !(a.high == 0 && a.low >> 32 == 0xffff)
        }
    }
}
