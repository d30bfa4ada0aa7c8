import LVSModel

/// The kernel's rules for IPVS requests, as far as they can be known without asking it.
enum IPVSRules {
    /// Persistence engines mainline Linux ships.
    static let persistenceEngines = ["sip"]

    /// Why the kernel would refuse an address as a real server (ip_vs_new_dest), if it would.
    /// IPv6 link-local addresses are refused only when not local, which cannot be known here.
    static func unicastProblem(_ a: IPAddress) -> String? {
        switch a.family {
        case .v4:
            let v = a.v4Value
            if v >> 24 == 0 { return "in 0.0.0.0/8 (\"this network\")" }
            if v == 0xffff_ffff { return "the broadcast address" }
            if v >> 28 == 0xe { return "a multicast address" }
            return nil
        case .v6:
            if a.isZero { return "the unspecified address" }
            if a.high >> 56 == 0xff { return "a multicast address" }
            if a.high == 0 && a.low >> 32 == 0xffff { return "an IPv4-mapped address" }
            return nil
        }
    }

    /// Whether the kernel ships a scheduler of this name ("none" means no scheduler).
    static func isKnownScheduler(_ name: String) -> Bool { name == "none" || Schedulers.known.contains(name) }
}

/// A model of the kernel's IPVS state that answers each operation with the errno
/// the kernel would return (nil for success) and applies it when it succeeds.
/// `-R` validates its whole input with it, and it computes what undoes a change.
struct IPVSStateModel {
    /// Services by key, with their order kept apart: -R inputs can be large.
    private var services: [ServiceKey: ServiceStatus] = [:]
    private var order: [ServiceKey] = []
    private(set) var daemons: [SyncDaemon]
    private(set) var timeouts: Timeouts

    enum Errno {
        static let noent: Int32 = 2, srch: Int32 = 3, exist: Int32 = 17, inval: Int32 = 22, range: Int32 = 34
    }

    init(table: IPVSTable, daemons: [SyncDaemon], timeouts: Timeouts) {
        for s in table.services where services.updateValue(s, forKey: s.service.key) == nil { order.append(s.service.key) }
        self.daemons = daemons
        self.timeouts = timeouts
    }

    /// The modelled table, in the order services were added.
    var table: IPVSTable { IPVSTable(services: order.compactMap { services[$0] }) }

    subscript(key: ServiceKey) -> ServiceStatus? { services[key] }

    /// Applies `op` if the kernel would accept it; returns the kernel's errno otherwise.
    mutating func apply(_ op: IPVSOperation) -> Int32? {
        switch op {
        case .addService(let s):
            if services[s.key] != nil { return Errno.exist }
            if let e = serviceSettingsError(s) { return e }
            var stored = s
            stored.flags = s.flags.intersection(.userSettable)
            services[s.key] = ServiceStatus(service: stored)
            order.append(s.key)
        case .editService(let s):
            guard services[s.key] != nil else { return Errno.srch }
            if let e = serviceSettingsError(s) { return e }
            services[s.key]?.service = s
            services[s.key]?.service.flags = s.flags.intersection(.userSettable)
        case .deleteService(let k):
            guard services.removeValue(forKey: k) != nil else { return Errno.srch }
            order.removeAll { $0 == k }
        case .addRealServer(let k, let r):
            guard let s = services[k] else { return Errno.srch }
            if let e = realServerError(k, r) { return e }
            if s.realServers.contains(where: { $0.server.identity == r.identity }) { return Errno.exist }
            if IPVSRules.unicastProblem(r.address) != nil { return Errno.inval }
            services[k]?.realServers.append(RealServerStatus(server: r))
        case .editRealServer(let k, let r):
            guard let s = services[k] else { return Errno.srch }
            if let e = realServerError(k, r) { return e }
            guard let j = s.realServers.firstIndex(where: { $0.server.identity == r.identity }) else { return Errno.noent }
            services[k]?.realServers[j].server = r
        case .deleteRealServer(let k, let rk):
            guard let s = services[k] else { return Errno.srch }
            guard let j = s.realServers.firstIndex(where: { $0.server.identity == rk }) else { return Errno.noent }
            services[k]?.realServers.remove(at: j)
        case .flush:
            services.removeAll()
            order.removeAll()
        case .zero(let k):
            if let k {
                guard services[k] != nil else { return Errno.srch }
                zero(k)
            } else {
                for k in order { zero(k) }
            }
        case .setTimeouts(let t):
            // 0 leaves a timeout as it is.
            if t.tcp != 0 { timeouts.tcp = t.tcp }
            if t.tcpFin != 0 { timeouts.tcpFin = t.tcpFin }
            if t.udp != 0 { timeouts.udp = t.udp }
        case .startDaemon(let d):
            if daemons.contains(where: { $0.role == d.role }) { return Errno.exist }
            if let g = d.group, !(g.family == .v4 ? g.v4Value >> 28 == 0xe : g.high >> 56 == 0xff) { return Errno.inval }
            if hasMixedFamilies { return Errno.inval }
            daemons.append(d)
        case .stopDaemon(let role):
            guard let i = daemons.firstIndex(where: { $0.role == role }) else { return Errno.srch }
            daemons.remove(at: i)
        }
        return nil
    }

    private mutating func zero(_ k: ServiceKey) {
        guard var s = services[k] else { return }
        s.stats = .zero
        for j in s.realServers.indices { s.realServers[j].stats = .zero }
        services[k] = s
    }

    private var hasMixedFamilies: Bool {
        services.values.contains { s in s.realServers.contains { $0.server.address.family != s.service.key.family } }
    }

    /// ip_vs_add_service / ip_vs_edit_service: scheduler, persistence engine, IPv6 prefix.
    private func serviceSettingsError(_ s: VirtualService) -> Int32? {
        if !IPVSRules.isKnownScheduler(s.scheduler) { return Errno.noent }
        if let pe = s.persistenceEngine, !pe.isEmpty, !IPVSRules.persistenceEngines.contains(pe) { return Errno.noent }
        if s.key.family == .v6 && !(1...128).contains(s.netmask) { return Errno.inval }
        return nil
    }

    /// ip_vs_genl_set_cmd's family check, then ip_vs_add_dest / ip_vs_edit_dest's range checks.
    private func realServerError(_ k: ServiceKey, _ r: RealServer) -> Int32? {
        if r.address.family != k.family && (r.forwarding != .tunnel || !daemons.isEmpty) { return Errno.inval }
        if r.weight < 0 || r.lowerThreshold > r.upperThreshold { return Errno.range }
        if r.forwarding == .tunnel && r.tunnelType == .gue && r.tunnelPort == 0 { return Errno.inval }
        return nil
    }

    /// Operations that undo `op`, given the state just before it was applied.
    func inverse(of op: IPVSOperation) -> [IPVSOperation] {
        switch op {
        case .addService(let s):
            return [.deleteService(s.key)]
        case .editService(let s):
            return services[s.key].map { [.editService($0.service)] } ?? []
        case .deleteService(let k):
            return services[k].map(Self.recreate) ?? []
        case .addRealServer(let k, let r):
            return [.deleteRealServer(k, r.identity)]
        case .editRealServer(let k, let r):
            return services[k]?.realServers.first { $0.server.identity == r.identity }.map { [.editRealServer(k, $0.server)] } ?? []
        case .deleteRealServer(let k, let rk):
            return services[k]?.realServers.first { $0.server.identity == rk }.map { [.addRealServer(k, $0.server)] } ?? []
        case .flush:
            return order.compactMap { services[$0] }.flatMap(Self.recreate)
        case .zero:
            return [] // counters cannot be restored
        case .setTimeouts:
            return [.setTimeouts(timeouts)]
        case .startDaemon(let d):
            return [.stopDaemon(d.role)]
        case .stopDaemon(let role):
            return daemons.first { $0.role == role }.map { [.startDaemon($0)] } ?? []
        }
    }

    private static func recreate(_ s: ServiceStatus) -> [IPVSOperation] {
        var service = s.service
        service.flags = service.flags.intersection(.userSettable)
        return [.addService(service)] + s.realServers.map { .addRealServer(service.key, $0.server) }
    }
}
