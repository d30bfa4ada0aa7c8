
/// The kernel's rules for IPVS requests, as far as they can be known without asking it.
package enum IPVSRules {
    /// Persistence engines mainline Linux ships.
    static let persistenceEngines = ["sip"]

    /// Why the kernel would refuse an address as a real server (ip_vs_new_dest), if it would.
    /// IPv6 link-local addresses are refused only when not local, which cannot be known here.
    package static func unicastProblem(_ a: IPAddress) -> String? {
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
///
/// `-R` inputs can hold 50,000 operations, so the model stores little per object: services
/// in the order they were added (deleted ones leave a hole), found through a dictionary, each
/// with its real servers' settings; counters only for what was read from the kernel.
package struct IPVSStateModel {
    private var positions: [ServiceKey: Int] = [:]
    private var slots: [Slot?] = []
    package private(set) var daemons: [SyncDaemon]
    package private(set) var timeouts: Timeouts

    private struct Slot {
        var service: VirtualService
        var realServers: [RealServer]
        /// The kernel's counters for the service and, in `realServers` order, its real servers;
        /// nil where all are zero (everything added here).
        var counters: Counters?
    }

    private struct Counters {
        var stats: Stats
        var realServers: [RealServerCounters]
    }

    private struct RealServerCounters {
        var active: UInt32 = 0, inactive: UInt32 = 0, persistent: UInt32 = 0
        var stats = Stats()
    }

    package enum Errno {
        package static let noent: Int32 = 2, srch: Int32 = 3, exist: Int32 = 17, inval: Int32 = 22, range: Int32 = 34
    }

    package init(table: IPVSTable, daemons: [SyncDaemon], timeouts: Timeouts) {
        positions.reserveCapacity(table.services.count)
        slots.reserveCapacity(table.services.count)
        for s in table.services {
            // Counters only where one is not zero: the table a reloading daemon assumes (what it
            // wrote) has none, and 10,000 services of zeros were 2 MB to make and free per reload.
            let counted = s.stats != .zero || s.realServers.contains {
                $0.activeConnections != 0 || $0.inactiveConnections != 0 || $0.persistentConnections != 0 || $0.stats != .zero
            }
            let counters = !counted ? nil : Counters(stats: s.stats, realServers: s.realServers.map {
                RealServerCounters(active: $0.activeConnections, inactive: $0.inactiveConnections,
                                   persistent: $0.persistentConnections, stats: $0.stats)
            })
            let slot = Slot(service: s.service, realServers: s.realServers.map(\.server), counters: counters)
            // A key given twice keeps its first place and its last value, as a dictionary update would.
            if let p = positions[s.service.key] {
                slots[p] = slot
            } else {
                positions[s.service.key] = slots.count
                slots.append(slot)
            }
        }
        self.daemons = daemons
        self.timeouts = timeouts
    }

    /// Room for this many more services, so that a large input does not rehash as it grows.
    package mutating func reserveCapacity(services: Int) {
        positions.reserveCapacity(positions.count + services)
        slots.reserveCapacity(slots.count + services)
    }

    /// The modelled table, in the order services were added.
    package var table: IPVSTable {
        // Sized once: a table of 10,000 services grown by doubling would touch twice the memory.
        var services: [ServiceStatus] = []
        services.reserveCapacity(positions.count)
        for slot in slots { if let slot { services.append(Self.status(slot)) } }
        return IPVSTable(services: services)
    }

    /// `table`, leaving the model empty: each service's real servers are freed as it is converted, so
    /// the two forms of a 10,000-service table are never held whole at once.
    package mutating func takeTable() -> IPVSTable {
        var taken = slots
        slots = []
        var services: [ServiceStatus] = []
        services.reserveCapacity(positions.count)
        positions = [:]
        for i in taken.indices {
            guard let slot = taken[i] else { continue }
            taken[i] = nil
            services.append(Self.status(slot))
        }
        return IPVSTable(services: services)
    }

    package func contains(_ key: ServiceKey) -> Bool { positions[key] != nil }
    /// How many services the model holds.
    package var serviceCount: Int { positions.count }

    package subscript(key: ServiceKey) -> ServiceStatus? { positions[key].flatMap { slots[$0] }.map(Self.status) }

    private static func status(_ slot: Slot) -> ServiceStatus {
        var realServers: [RealServerStatus] = []
        realServers.reserveCapacity(slot.realServers.count)
        for (j, r) in slot.realServers.enumerated() {
            var status = RealServerStatus(server: r)
            if let c = slot.counters?.realServers[j] {
                status.activeConnections = c.active
                status.inactiveConnections = c.inactive
                status.persistentConnections = c.persistent
                status.stats = c.stats
            }
            realServers.append(status)
        }
        return ServiceStatus(service: slot.service, stats: slot.counters?.stats ?? Stats(), realServers: realServers)
    }

    /// Applies `op` if the kernel would accept it; returns the kernel's errno otherwise.
    package mutating func apply(_ op: IPVSOperation) -> Int32? {
        switch op {
        case .addService(let s):
            if positions[s.key] != nil { return Errno.exist }
            if let e = serviceSettingsError(s) { return e }
            var stored = s
            stored.flags = s.flags.intersection(.userSettable)
            positions[s.key] = slots.count
            slots.append(Slot(service: stored, realServers: [], counters: nil))
        case .editService(let s):
            guard let p = positions[s.key] else { return Errno.srch }
            if let e = serviceSettingsError(s) { return e }
            slots[p]!.service = s
            slots[p]!.service.flags = s.flags.intersection(.userSettable)
        case .deleteService(let k):
            guard let p = positions.removeValue(forKey: k) else { return Errno.srch }
            slots[p] = nil
        case .addRealServer(let k, let r):
            guard let p = positions[k] else { return Errno.srch }
            if let e = realServerError(k, r) { return e }
            if slots[p]!.realServers.contains(where: { $0.address == r.address && $0.port == r.port }) { return Errno.exist }
            if IPVSRules.unicastProblem(r.address) != nil { return Errno.inval }
            slots[p]!.realServers.append(r)
            slots[p]!.counters?.realServers.append(RealServerCounters())
        case .editRealServer(let k, let r):
            guard let p = positions[k] else { return Errno.srch }
            if let e = realServerError(k, r) { return e }
            guard let j = slots[p]!.realServers.firstIndex(where: { $0.address == r.address && $0.port == r.port }) else { return Errno.noent }
            slots[p]!.realServers[j] = r
        case .deleteRealServer(let k, let rk):
            guard let p = positions[k] else { return Errno.srch }
            guard let j = slots[p]!.realServers.firstIndex(where: { $0.identity == rk }) else { return Errno.noent }
            slots[p]!.realServers.remove(at: j)
            slots[p]!.counters?.realServers.remove(at: j)
        case .flush:
            positions.removeAll()
            slots.removeAll()
        case .zero(let k):
            if let k {
                guard let p = positions[k] else { return Errno.srch }
                zero(p)
            } else {
                for p in slots.indices where slots[p] != nil { zero(p) }
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

    /// Counters go to zero; connection counts stay.
    private mutating func zero(_ p: Int) {
        guard var c = slots[p]?.counters else { return }
        c.stats = Stats()
        for j in c.realServers.indices { c.realServers[j].stats = Stats() }
        slots[p]!.counters = c
    }

    private var hasMixedFamilies: Bool {
        slots.contains { slot in
            guard let slot else { return false }
            return slot.realServers.contains { $0.address.family != slot.service.key.family }
        }
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
    package func inverse(of op: IPVSOperation) -> [IPVSOperation] {
        switch op {
        case .addService(let s):
            return [.deleteService(s.key)]
        case .editService(let s):
            return self[s.key].map { [.editService($0.service)] } ?? []
        case .deleteService(let k):
            return self[k].map(Self.recreate) ?? []
        case .addRealServer(let k, let r):
            return [.deleteRealServer(k, r.identity)]
        case .editRealServer(let k, let r):
            return self[k]?.realServers.first { $0.server.identity == r.identity }.map { [.editRealServer(k, $0.server)] } ?? []
        case .deleteRealServer(let k, let rk):
            return self[k]?.realServers.first { $0.server.identity == rk }.map { [.addRealServer(k, $0.server)] } ?? []
        case .flush:
            return table.services.flatMap(Self.recreate)
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
