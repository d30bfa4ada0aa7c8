import Firewall
import IPVS
import LVSModel

/// The candidate state, as Junos calls it: what the kernel held when the batch started, with every change
/// the batch's commands made so far. Commands read it ("does this service exist?") and add to it;
/// each change is checked here, so a bad command is refused before anything reaches the kernel.
public struct Candidate {
    private(set) var ipvs: IPVSStateModel
    /// The groups by name, after the changes so far.
    public private(set) var groups: [String: PortGroup]
    /// The sysctls set so far, by full name.
    public private(set) var sysctls: [String: String] = [:]
    public private(set) var changes: [PlannedChange] = []
    /// Whether to keep `changes` (with their undo steps and summaries). A desired state (apply's file,
    /// evaluated from empty) is only ever read for its result: 50,000 unrecorded changes save their memory.
    public var recordsChanges = true
    public private(set) var warnings: [String] = []
    /// What lvsh did on its own and says so (e.g. turning forwarding on for NAT).
    public private(set) var notes: [String] = []
    /// Whether lvsh may set the sysctls a configuration needs (setting auto-sysctl).
    public var autoSysctl = true
    /// Marks that groups had in the kernel, by name: a group created without a mark gets its old one back
    /// (apply evaluates files from an empty state), and new groups' allocation avoids all of them.
    public var preferredMarks: [String: UInt32] = [:] {
        didSet {
            preferredMarkSet = Set(preferredMarks.values)
            resetMarkAllocation()
        }
    }
    private var preferredMarkSet = Set<UInt32>()
    /// Groups that a `group NAME ...` re-defined, with their entries before the first re-definition and
    /// where that stood: `finish()` says what the batch removed from them in the end (a later
    /// `group NAME add ...` may put entries back, as a saved configuration does).
    public var redefinedGroups: [String: (entries: [PortGroupEntry], at: SourceLocation?)] = [:]
    /// Where the command being run came from; stamped on its changes.
    public var location: SourceLocation?
    /// Reads a sysctl's current value, for undo.
    let readSysctl: (String) -> String?
    /// Why IPVS could not be read (not loaded, no permission): IPVS commands then fail with it.
    public var ipvsUnavailable: LVSError?
    /// Why the firewall backend could not be read: group commands then fail with it.
    public var groupsUnavailable: LVSError?
    /// Set for a batch whose only changes are entry edits (`group NAME add|del ...`; see Batch): the
    /// groups were not read, since checking one edit against all of them costs a read of every entry
    /// (100,000 entries for one new port). Edits are recorded as given, and the backend checks them
    /// against the kernel's groups when it applies them (`MarkBackend.apply`), as one transaction that
    /// bad input leaves untouched.
    public var defersGroupChecks = false
    /// Which language words a refused IPVS operation: lvsh's commands, or ipvsadm's options for the
    /// ipvsadm lines of a batch.
    public var wording: any RefusalWording = PlainWording()
    /// Whether a change set the connection timeouts (a desired state then manages them).
    public private(set) var timeoutsSet = false
    /// The part only a daemon acts on (checks, maintenance, metrics): see `changeHealth`.
    public var health = HealthConfig()
    /// Whether commands may change `health`: a daemon's state and a file's desired state keep it; a
    /// batch run without a daemon refuses it, since nothing would act on it.
    public var keepsHealth = false
    /// `groups`' entries and marks, indexed (see `applyIndexed`).
    private var groupIndex: PortGroupIndex
    /// Mark allocation (see `allocateGroupMark`): marks below the frontier are in use, or listed here.
    private var markFrontier = PortGroupRules.firstAllocatedMark
    private var freedMarks: [UInt32] = []

    public init(table: IPVSTable, daemons: [SyncDaemon], timeouts: Timeouts, groups: [PortGroup],
                readSysctl: @escaping (String) -> String?) {
        ipvs = IPVSStateModel(table: table, daemons: daemons, timeouts: timeouts)
        self.groups = Dictionary(groups.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        groupIndex = PortGroupIndex(self.groups.values)
        self.readSysctl = readSysctl
    }

    // MARK: reading

    public var table: IPVSTable { ipvs.table }
    /// The table, leaving the candidate without services (for a candidate that is read once, at its end).
    public mutating func takeTable() -> IPVSTable {
        resetMarkAllocation()
        return ipvs.takeTable()
    }
    public var daemons: [SyncDaemon] { ipvs.daemons }
    public var timeouts: Timeouts { ipvs.timeouts }
    public func service(_ key: ServiceKey) -> ServiceStatus? { ipvs[key] }
    /// How many services the candidate holds (without making its table).
    public var serviceCount: Int { ipvs.serviceCount }

    /// Marks in use by groups and by fwmark services: what a new group's mark must avoid.
    public var marksInUse: Set<UInt32> {
        var used = Set(groups.values.map(\.mark)).union(preferredMarks.values)
        for s in ipvs.table.services { if case .fwmark(let m, _) = s.service.key { used.insert(m) } }
        return used
    }

    /// The group whose mark a fwmark service carries, if any.
    public func group(forMark mark: UInt32) -> PortGroup? {
        guard groupIndex.isConsistent else { return groups.values.first { $0.mark == mark } }
        return groupIndex.owner(ofMark: mark).flatMap { groups[$0] }
    }

    /// The mark a new group gets: the lowest from 1000 up that no group, no preferred mark (see
    /// `preferredMarks`) and no fwmark service uses, as `PortGroupRules.allocateMark(excluding:
    /// marksInUse)` gives, without collecting every mark in use for each new group.
    public mutating func allocateGroupMark() -> UInt32 {
        // Every unused mark below `markFrontier` is in `freedMarks` (largest first), with some used ones.
        while let m = freedMarks.last {
            if !isMarkInUse(m) { return m }
            freedMarks.removeLast()
        }
        while isMarkInUse(markFrontier) { markFrontier += 1 }
        return markFrontier
    }

    private func isMarkInUse(_ m: UInt32) -> Bool {
        group(forMark: m) != nil || preferredMarkSet.contains(m)
            || ipvs.contains(.fwmark(m, .v4)) || ipvs.contains(.fwmark(m, .v6))
    }

    /// A mark that was in use may be free now.
    private mutating func markMayBeFree(_ m: UInt32) {
        guard m >= PortGroupRules.firstAllocatedMark, m < markFrontier else { return }
        var lo = 0, hi = freedMarks.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if freedMarks[mid] > m { lo = mid + 1 } else { hi = mid }
        }
        freedMarks.insert(m, at: lo)
    }

    private mutating func resetMarkAllocation() {
        markFrontier = PortGroupRules.firstAllocatedMark
        freedMarks = []
    }

    /// Room for this many more services in the modelled table, so that a large file does not make it
    /// grow (and copy itself) by doubling.
    public mutating func reserveCapacity(services: Int) { ipvs.reserveCapacity(services: services) }

    // MARK: changing

    /// Checks an IPVS operation against the state so far and records it.
    public mutating func apply(_ op: IPVSOperation, _ summary: @autoclosure () -> String) throws(LVSError) {
        if let ipvsUnavailable { throw ipvsUnavailable }
        let undo = recordsChanges ? ipvs.inverse(of: op) : []
        if let errno = ipvs.apply(op) {
            // The state did not change, so the service's real servers are still as they were before `op`.
            throw LVSError(.badInput, wording.message(for: IPVSFailure(operation: op, errno: errno), table: contextTable(for: op)), errno: errno)
        }
        if case .setTimeouts = op { timeoutsSet = true }
        switch op {
        case .deleteService(.fwmark(let m, _)): markMayBeFree(m)
        case .flush: resetMarkAllocation()
        default: break
        }
        if recordsChanges {
            changes.append(PlannedChange(step: .ipvs(op), undo: undo.map(Step.ipvs), summary: summary(), location: location))
        }
    }

    /// Checks a group change against all groups (overlaps, marks) and records it.
    public mutating func apply(_ change: GroupChange, _ summary: @autoclosure () -> String) throws(LVSError) {
        if defersGroupChecks {
            let undo: GroupChange
            switch change {
            case .addEntries(let name, let entries): undo = .deleteEntries(group: name, entries)
            case .deleteEntries(let name, let entries): undo = .addEntries(group: name, entries)
            case .put, .delete: throw .failed("internal error: '\(summary())' needs the groups, which this batch did not read")
            }
            changes.append(PlannedChange(step: .groups(change), undo: [.groups(undo)], summary: summary(), location: location))
            return
        }
        if let groupsUnavailable { throw groupsUnavailable }
        let undo: [GroupChange]
        switch change {
        case .put(let g): undo = [groups[g.name].map(GroupChange.put) ?? .delete(group: g.name)]
        case .addEntries(let name, let entries): undo = [.deleteEntries(group: name, entries)]
        case .deleteEntries(let name, let entries): undo = [.addEntries(group: name, entries)]
        case .delete(let name): undo = groups[name].map { [.put($0)] } ?? []
        }
        if !applyIndexed(change) {
            // Refused (or the groups already broke the rules): the full check says why, with the
            // message that names both groups; should it pass, its result is taken whole.
            let (after, _) = try GroupChange.apply([change], to: Array(groups.values))
            groups = Dictionary(after.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
            groupIndex = PortGroupIndex(groups.values)
            resetMarkAllocation()
        }
        if recordsChanges {
            changes.append(PlannedChange(step: .groups(change), undo: undo.map(Step.groups), summary: summary(), location: location))
        }
    }

    /// Applies a group change through the index, in O(k log n) for k entries touched and n groups:
    /// the same result as `GroupChange.apply([change], to: groups)`. False, with nothing changed, where
    /// that would refuse the change (or where the index cannot tell: groups that broke the rules before).
    private mutating func applyIndexed(_ change: GroupChange) -> Bool {
        guard groupIndex.isConsistent else { return false }
        func valid(_ g: PortGroup) -> Bool { PortGroupRules.isValidName(g.name) && g.mark != 0 }
        switch change {
        case .put(var g):
            guard valid(g) else { return false }
            let old = groups[g.name]
            g.entries.sort()
            guard groupIndex.replace(old, with: g) else { return false }
            groups[g.name] = g
            if let old, old.mark != g.mark { markMayBeFree(old.mark) }
        case .addEntries(let name, let entries):
            // A duplicate overlaps the entry it repeats, so the full check gives its message.
            guard var g = groups[name], valid(g), groupIndex.insert(entries, of: name) else { return false }
            g.entries.append(contentsOf: entries)
            g.entries.sort()
            groups[name] = g
        case .deleteEntries(let name, let entries):
            guard var g = groups[name], valid(g) else { return false }
            let gone = Set(entries)
            guard groupIndex.remove(Array(gone), of: name) else { return false }
            g.entries.removeAll { gone.contains($0) }
            groups[name] = g
        case .delete(let name):
            guard let g = groups.removeValue(forKey: name) else { return false }
            groupIndex.remove(g)
            markMayBeFree(g.mark)
        }
        return true
    }

    /// Records a sysctl write; undo restores the value it had when the batch started.
    public mutating func setSysctl(_ name: String, _ value: String, _ summary: @autoclosure () -> String) {
        let old = sysctls[name] ?? readSysctl(name)
        sysctls[name] = value
        guard recordsChanges else { return }
        changes.append(PlannedChange(step: .sysctl(name: name, value: value),
                                     undo: old.map { [.sysctl(name: name, value: $0)] } ?? [],
                                     summary: summary(), location: location))
    }

    /// Notes that NAT real servers of a family need forwarding; `finish` turns it on if it is off.
    public mutating func ensureForwarding(_ family: IPAddress.Family) {
        if forwardingNeeded[family] == nil { forwardingNeeded[family] = location }
    }

    /// Families whose NAT real servers need forwarding, with the first command that needed it.
    private var forwardingNeeded: [IPAddress.Family: SourceLocation?] = [:]

    /// What the whole batch needs and did not say: forwarding for NAT (unless auto-sysctl is off).
    /// Run after the last command, so that a `sysctl` line later in the file is seen first.
    public mutating func finish() {
        for (name, before) in redefinedGroups.sorted(by: { $0.key < $1.key }) {
            // A group the batch removed (`no group`) was removed on purpose.
            guard let after = groups[name] else { continue }
            let removed = PortGroupDifference.entries(before.entries, notIn: after.entries)
            guard !removed.isEmpty else { continue }
            warnings.append((before.at.map { "\($0): " } ?? "") + "warning: group \(name): removes \(PortGroupDifference.text(removed)) "
                            + "(re-defining a group replaces its entries; `group \(name) add ...` adds to them)")
        }
        redefinedGroups = [:]
        for family in [IPAddress.Family.v4, .v6] {
            guard let at = forwardingNeeded[family] else { continue }
            let name = family == .v4 ? "net.ipv4.ip_forward" : "net.ipv6.conf.all.forwarding"
            guard let current = sysctls[name] ?? readSysctl(name), current != "1" else { continue }
            let prefix = at.map { "\($0): " } ?? ""
            // A `sysctl` line of the batch that says otherwise wins (so `show running-config` of a
            // director with forwarding off applies back without a change).
            guard autoSysctl, sysctls[name] == nil else {
                warnings.append(prefix + "warning: \(name) is \(current): NAT real servers' replies cannot reach clients until it is 1 (`sysctl \(name) 1`)")
                continue
            }
            location = at
            setSysctl(name, "1", "set \(name) = 1 (NAT real servers need the director to forward)")
            notes.append(prefix + "note: turning on \(name): NAT real servers' replies pass through the director (`set auto-sysctl off` stops lvsh doing this)")
        }
        expireQuiescentTemplatesIfNeeded()
    }

    /// Health that sets a persistent service's real servers to weight 0 works only if the kernel
    /// expires their clients' templates: without it a failed server's clients keep being sent to it
    /// until their templates time out (the service's `persistent` seconds, 300 by default).
    private mutating func expireQuiescentTemplatesIfNeeded() {
        let name = "net.ipv4.vs.expire_quiescent_template"
        guard let current = sysctls[name] ?? readSysctl(name), current != "1",
              let key = health.persistentServiceSetToWeight0(isPersistent: { service($0)?.service.isPersistent == true })
        else { return }
        var shown = PlanDescription.name(key)
        if case .fwmark(let mark, _) = key, let g = group(forMark: mark) { shown = g.name }
        let what = "service \(shown) is persistent, and health or maintenance sets its real servers to weight 0"
        guard autoSysctl, sysctls[name] == nil else {
            warnings.append("warning: \(name) is \(current): \(what), but the clients of such a server keep being sent to it until their templates expire (`sysctl expire_quiescent_template 1`)")
            return
        }
        location = nil
        setSysctl(name, "1", "set \(name) = 1 (persistence templates of weight-0 real servers expire)")
        notes.append("note: turning on \(name): \(what); with it their clients go to the other servers at once (`set auto-sysctl off` stops lvsh doing this)")
    }

    public mutating func warn(_ text: String) {
        warnings.append(location.map { "\($0): warning: \(text)" } ?? "warning: \(text)")
    }

    /// The service's state for messages about its real servers.
    private func contextTable(for op: IPVSOperation) -> IPVSTable? {
        switch op {
        case .editRealServer(let k, _), .deleteRealServer(let k, _), .addRealServer(let k, _):
            ipvs[k].map { IPVSTable(services: [$0]) }
        default:
            nil
        }
    }
}
