
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
/// `-R` inputs can hold 50,000 operations: the model keeps services in the order they were added
/// (deleted ones leave a hole), found through a dictionary, each in the form a table holds it. A
/// model made from a table shares each service's real servers with it until an operation changes
/// them, and gives its table back without copying them: when a reloading daemon changed one weight,
/// its 10,000 services were converted into the model and out of it, each array a fresh allocation.
package struct IPVSStateModel {
    private var positions: [ServiceKey: Int] = [:]
    /// A deleted service's slot stays, empty, until the table is made: it is dead when `positions`
    /// no longer points at it. Without dead slots the slots are the table, given without a copy
    /// (at 10,000 services a copy was 234 pages a reload, each a fault in user-mode-linux).
    private var slots: [Slot] = []
    private var deadSlots = 0
    package private(set) var daemons: [SyncDaemon]
    package private(set) var timeouts: Timeouts

    private typealias Slot = ServiceStatus

    package enum Errno {
        package static let noent: Int32 = 2, srch: Int32 = 3, exist: Int32 = 17, inval: Int32 = 22, range: Int32 = 34
    }

    package init(table: IPVSTable, daemons: [SyncDaemon], timeouts: Timeouts) {
        positions.reserveCapacity(table.services.count)
        slots.reserveCapacity(table.services.count)
        for s in table.services {
            // A key given twice keeps its first place and its last value, as a dictionary update would.
            if let p = positions[s.service.key] {
                slots[p] = s
            } else {
                positions[s.service.key] = slots.count
                slots.append(s)
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
        guard deadSlots > 0 else { return IPVSTable(services: slots) }
        // Sized once: a table of 10,000 services grown by doubling would touch twice the memory.
        var services: [ServiceStatus] = []
        services.reserveCapacity(positions.count)
        for p in slots.indices where isLive(p) { services.append(slots[p]) }
        return IPVSTable(services: services)
    }

    private func isLive(_ p: Int) -> Bool { positions[slots[p].service.key] == p }

    /// `table`, leaving the model empty, so that the table's real servers are not shared with it. An
    /// array of real servers grown one by one has up to twice the room it needs, and a daemon keeps
    /// this table for its life: one with more than an eighth to spare is copied to its size (at 100
    /// real servers a service the spare room was about 30 bytes a real server).
    package mutating func takeTable() -> IPVSTable {
        var table = self.table
        slots = []
        positions = [:]
        deadSlots = 0
        // The slots' room was reserved by the caller's guess (a file's service lines, three a service
        // in some), and real servers were appended one by one.
        table.services = Self.sized(table.services)
        for i in table.services.indices { table.services[i].realServers = Self.sized(table.services[i].realServers) }
        return table
    }

    /// `array` itself, or a copy of it without spare room when more than an eighth of its room is
    /// spare (not Array(array[...]), which keeps the same storage).
    private static func sized<T>(_ array: [T]) -> [T] {
        guard array.capacity - array.count > array.count / 8 else { return array }
        var sized: [T] = []
        sized.reserveCapacity(array.count)
        sized.append(contentsOf: array)
        return sized
    }

    package func contains(_ key: ServiceKey) -> Bool { positions[key] != nil }
    /// How many services the model holds.
    package var serviceCount: Int { positions.count }

    package subscript(key: ServiceKey) -> ServiceStatus? { positions[key].map { slots[$0] } }

    /// Applies `op` if the kernel would accept it; returns the kernel's errno otherwise.
    package mutating func apply(_ op: IPVSOperation) -> Int32? {
        switch op {
        case .addService(let s):
            if positions[s.key] != nil { return Errno.exist }
            if let e = serviceSettingsError(s) { return e }
            var stored = s
            stored.flags = s.flags.intersection(.userSettable)
            positions[s.key] = slots.count
            slots.append(Slot(service: stored))
        case .editService(let s):
            guard let p = positions[s.key] else { return Errno.srch }
            if let e = serviceSettingsError(s) { return e }
            slots[p].service = s
            slots[p].service.flags = s.flags.intersection(.userSettable)
        case .deleteService(let k):
            guard let p = positions.removeValue(forKey: k) else { return Errno.srch }
            slots[p].realServers = []
            deadSlots += 1
        case .addRealServer(let k, let r):
            guard let p = positions[k] else { return Errno.srch }
            if let e = realServerError(k, r) { return e }
            if slots[p].realServers.contains(where: { $0.server.address == r.address && $0.server.port == r.port }) { return Errno.exist }
            if IPVSRules.unicastProblem(r.address) != nil { return Errno.inval }
            slots[p].realServers.append(RealServerStatus(server: r))
        case .editRealServer(let k, let r):
            guard let p = positions[k] else { return Errno.srch }
            if let e = realServerError(k, r) { return e }
            guard let j = slots[p].realServers.firstIndex(where: { $0.server.address == r.address && $0.server.port == r.port }) else { return Errno.noent }
            slots[p].realServers[j].server = r
        case .deleteRealServer(let k, let rk):
            guard let p = positions[k] else { return Errno.srch }
            guard let j = slots[p].realServers.firstIndex(where: { $0.server.identity == rk }) else { return Errno.noent }
            slots[p].realServers.remove(at: j)
        case .flush:
            positions.removeAll()
            slots.removeAll()
            deadSlots = 0
        case .zero(let k):
            if let k {
                guard let p = positions[k] else { return Errno.srch }
                zero(p)
            } else {
                for p in slots.indices where isLive(p) { zero(p) }
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
        var s = slots[p]
        // Only where there is something to zero: an array shared with a table stays shared.
        if s.stats != .zero { s.stats = Stats() }
        for j in s.realServers.indices where s.realServers[j].stats != .zero { s.realServers[j].stats = Stats() }
        slots[p] = s
    }

    private var hasMixedFamilies: Bool {
        slots.indices.contains { p in
            // A dead slot has no real servers.
            slots[p].realServers.contains { $0.server.address.family != slots[p].service.key.family }
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
