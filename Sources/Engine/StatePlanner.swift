import Firewall
import LVSModel

/// The smallest ordered set of writes that turns the actual state into the desired one.
///
/// Order, so that no traffic is lost needlessly: sysctls and timeouts; new and changed services;
/// new and changed real servers; then the firewall marks in one transaction (a new group starts
/// marking only once its fwmark service exists, and a removed group stops marking before its service
/// goes); then real servers that leave (after their replacements came); then services that leave; then
/// sync daemons. Without --prune, services, groups and daemons the file does not name stay as they are.
/// Identities that change (a real server's port) are a delete and an add; everything
/// IPVS can edit in place is edited.
package enum StatePlanner {
    package struct Plan {
        package var ipvsFirst: [IPVSOperation] = []
        package var groups: [GroupChange] = []
        package var realDeletes: [(ServiceKey, RealServer)] = []
        package var serviceDeletes: [ServiceKey] = []
        package var daemonOps: [IPVSOperation] = []
        package var sysctls: [(String, String)] = []
        /// Services and groups the file does not name, left alone without --prune.
        package var untouched: [ServiceKey] = []
        package var untouchedGroups: [String] = []

        /// Every service a step of the plan changes.
        package var serviceKeys: Set<ServiceKey> {
            var keys = Set(serviceDeletes)
            for op in ipvsFirst + daemonOps { if let k = op.serviceKey { keys.insert(k) } }
            for (k, _) in realDeletes { keys.insert(k) }
            return keys
        }

        package var isEmpty: Bool {
            ipvsFirst.isEmpty && groups.isEmpty && realDeletes.isEmpty && serviceDeletes.isEmpty
                && daemonOps.isEmpty && sysctls.isEmpty
        }
    }

    package static func plan(from actual: ManagedState, to desired: ManagedState, prune: Bool, leaving: Leaving = Leaving()) -> Plan {
        var plan = Plan()
        for name in desired.sysctls.keys.sorted() where actual.sysctls[name] != desired.sysctls[name] {
            plan.sysctls.append((name, desired.sysctls[name]!))
        }
        if let want = desired.timeouts, let have = actual.timeouts {
            // 0 means "leave as it is", in the file as in the kernel's interface.
            let differs = (want.tcp != 0 && want.tcp != have.tcp) || (want.tcpFin != 0 && want.tcpFin != have.tcpFin)
                || (want.udp != 0 && want.udp != have.udp)
            if differs { plan.ipvsFirst.append(.setTimeouts(want)) }
        }
        planServices(from: actual, to: desired, prune: prune, leaving: leaving.services, into: &plan)
        planGroups(from: actual, to: desired, prune: prune, leaving: leaving.groups, into: &plan)
        planDaemons(from: actual, to: desired, prune: prune, into: &plan)
        return plan
    }

    /// Services and their real servers: adds, then edits, then real servers; deletes apart (--drain).
    private static func planServices(from actual: ManagedState, to desired: ManagedState, prune: Bool, leaving: Set<ServiceKey>,
                                     into plan: inout Plan) {
        var adds: [IPVSOperation] = [], edits: [IPVSOperation] = [], realAdds: [IPVSOperation] = []
        // By key: files and tables of 10,000 services must not be searched once per service.
        var actualIndex: [ServiceKey: Int] = [:]
        actualIndex.reserveCapacity(actual.services.count)
        for (i, a) in actual.services.enumerated() where actualIndex[a.service.key] == nil { actualIndex[a.service.key] = i }
        let desiredKeys = Set(desired.services.map(\.service.key))
        for d in desired.services {
            let key = d.service.key
            guard let a = actualIndex[key].map({ actual.services[$0] }) else {
                adds.append(.addService(d.service))
                realAdds += d.realServers.map { .addRealServer(key, $0.server) }
                continue
            }
            if a.service != d.service { edits.append(.editService(d.service)) }
            planRealServers(key, from: a, to: d, adds: &realAdds, deletes: &plan.realDeletes)
        }
        plan.ipvsFirst.reserveCapacity(plan.ipvsFirst.count + adds.count + edits.count + realAdds.count)
        plan.ipvsFirst += adds
        plan.ipvsFirst += edits
        plan.ipvsFirst += realAdds
        for a in actual.services where !desiredKeys.contains(a.service.key) {
            if prune || leaving.contains(a.service.key) { plan.serviceDeletes.append(a.service.key) } else { plan.untouched.append(a.service.key) }
        }
    }

    private static func planRealServers(_ key: ServiceKey, from a: ServiceStatus, to d: ServiceStatus,
                                        adds: inout [IPVSOperation], deletes: inout [(ServiceKey, RealServer)]) {
        // Most services of a re-applied file are unchanged: with a few real servers, comparing them
        // directly costs less than building the indexes below (identities are unique in a service).
        if a.realServers.count == d.realServers.count, a.realServers.count <= 16,
           d.realServers.allSatisfy({ r in a.realServers.contains { $0.server == r.server } }) {
            return
        }
        let have = Dictionary(a.realServers.map { ($0.server.identity, $0.server) }, uniquingKeysWith: { a, _ in a })
        let want = Set(d.realServers.map(\.server.identity))
        for r in d.realServers {
            if let h = have[r.server.identity] {
                if h != r.server { adds.append(.editRealServer(key, r.server)) }
            } else {
                adds.append(.addRealServer(key, r.server))
            }
        }
        for r in a.realServers where !want.contains(r.server.identity) { deletes.append((key, r.server)) }
    }

    /// Groups: only the entries that differ, deletions first in the one transaction.
    private static func planGroups(from actual: ManagedState, to desired: ManagedState, prune: Bool, leaving: Set<String>,
                                   into plan: inout Plan) {
        let wanted = Dictionary(desired.groups.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        let existing = Dictionary(actual.groups.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        for a in actual.groups where wanted[a.name] == nil {
            if prune || leaving.contains(a.name) { plan.groups.append(.delete(group: a.name)) } else { plan.untouchedGroups.append(a.name) }
        }
        for d in desired.groups {
            guard let a = existing[d.name], a.mark == d.mark else {
                plan.groups.append(.put(d))
                continue
            }
            // Only the entries that differ: one small transaction however large the group.
            let have = Set(a.entries), want = Set(d.entries)
            let gone = a.entries.filter { !want.contains($0) }
            let new = d.entries.filter { !have.contains($0) }
            if !gone.isEmpty { plan.groups.append(.deleteEntries(group: d.name, gone)) }
            if !new.isEmpty { plan.groups.append(.addEntries(group: d.name, new)) }
        }
        // Deletions first in the transaction, so an entry can move between groups.
        plan.groups.sort { rank($0) < rank($1) }
    }

    private static func planDaemons(from actual: ManagedState, to desired: ManagedState, prune: Bool, into plan: inout Plan) {
        for d in desired.daemons {
            if let a = actual.daemons.first(where: { $0.role == d.role }) {
                if !sameDaemon(a, d) { plan.daemonOps += [.stopDaemon(d.role), .startDaemon(d)] }
            } else {
                plan.daemonOps.append(.startDaemon(d))
            }
        }
        if prune {
            for a in actual.daemons where !desired.daemons.contains(where: { $0.role == a.role }) {
                plan.daemonOps.append(.stopDaemon(a.role))
            }
        }
    }

    private static func rank(_ c: GroupChange) -> Int {
        switch c {
        case .delete: 0
        case .deleteEntries: 1
        case .put: 2
        case .addEntries: 3
        }
    }

    /// The kernel fills in defaults (maxlen from the MTU, group 224.0.0.81, port 8848, ttl 1) for what
    /// a file leaves out: only what the file gives counts.
    static func sameDaemon(_ actual: SyncDaemon, _ desired: SyncDaemon) -> Bool {
        actual.interface == desired.interface && actual.syncID == desired.syncID
            && (desired.maxLength == 0 || actual.maxLength == desired.maxLength)
            && (desired.group == nil || actual.group == desired.group)
            && (desired.port == 0 || actual.port == desired.port)
            && (desired.ttl == 0 || actual.ttl == desired.ttl)
    }
}
