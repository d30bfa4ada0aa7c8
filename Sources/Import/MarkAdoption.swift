import LVSModel

/// `lvsh adopt`'s pure half: the mark rules found in the firewall → port groups, one per mark that an
/// IPVS fwmark service uses, with a warning for every rule not carried.
public enum MarkAdoption {
    public struct Result: Sendable {
        /// Groups named `mark-N` (or `fwmark-N` when lvsh has a group named so), by mark.
        public var groups: [PortGroup] = []
        /// Which rules each group came from, by group name.
        public var origins: [String: [String]] = [:]
        public var warnings: [String] = []
        /// Groups whose address families are not those of their mark's fwmark services (an lvsh group
        /// has a service per family it holds): kept as comments even with --take-over, with why.
        public var familyMismatch: [String: String] = [:]
    }

    /// - serviceMarks: the marks of the kernel's IPVS fwmark services.
    /// - owned: lvsh's own groups (their marks and entries are taken).
    /// - serviceFamilies: the families of each mark's fwmark services (for `familyMismatch`).
    public static func groups(from scan: MarkRuleScan, serviceMarks: Set<UInt32>, owned: [PortGroup],
                              serviceFamilies: [UInt32: Set<IPAddress.Family>] = [:]) -> Result {
        var result = Result()
        let ownedMarks = Dictionary(owned.map { ($0.mark, $0.name) }, uniquingKeysWith: { a, _ in a })
        let ownedNames = Set(owned.map(\.name))
        var byMark: [UInt32: PortGroup] = [:]
        var order: [UInt32] = []
        // Rules for every address of one family: carried as `any` when the other family has the same.
        var rules: [MarkRule] = []
        var single: [MarkRule] = []
        for rule in scan.rules {
            if rule.onlyFamily == nil { rules.append(rule) } else { single.append(rule) }
        }
        var paired = Set<Int>()
        for (i, a) in single.enumerated() where a.onlyFamily == .v4 && !paired.contains(i) {
            if let j = single.indices.first(where: { !paired.contains($0) && single[$0].onlyFamily == .v6 && single[$0].mark == a.mark
                && Set(single[$0].entries) == Set(a.entries) }) {
                paired.formUnion([i, j])
                rules.append(MarkRule(origin: a.origin + " (and " + single[j].origin + ")", mark: a.mark, entries: a.entries))
            }
        }
        for (i, r) in single.enumerated() where !paired.contains(i) {
            let (this, other) = r.onlyFamily == .v4 ? ("IPv4", "IPv6") : ("IPv6", "IPv4")
            result.warnings.append("not carried: \(r.origin): it marks every \(this) address, and lvsh's `any` marks both families; "
                                   + "give the addresses, or mark the same for \(other) too")
        }
        for rule in rules {
            let head = "not carried: \(rule.origin): "
            guard serviceMarks.contains(rule.mark) else {
                result.warnings.append(head + "it sets mark \(rule.mark), which no IPVS fwmark service uses")
                continue
            }
            if let name = ownedMarks[rule.mark] {
                result.warnings.append(head + "it sets mark \(rule.mark), which lvsh's group \(name) sets; remove the rule or the group")
                continue
            }
            if let (a, b, g) = overlap(rule.entries, ignoringMark: rule.mark, in: byMark, owned: owned) {
                result.warnings.append(head + "its '\(a.description)' overlaps '\(b.description)' of \(g); a packet carries one mark, and lvsh groups may not overlap")
                continue
            }
            var name = "mark-\(rule.mark)"
            if ownedNames.contains(name) { name = "fwmark-\(rule.mark)" }
            var group = byMark[rule.mark] ?? PortGroup(name: name, mark: rule.mark, entries: [])
            if byMark[rule.mark] == nil { order.append(rule.mark) }
            group.entries = merged(group.entries + rule.entries)
            byMark[rule.mark] = group
            result.origins[name, default: []].append(rule.origin)
        }
        for u in scan.unexpressed where u.reason != "lvsh's own" {
            var w = "not carried: \(u.origin): \(u.reason)"
            if let m = u.mark, !serviceMarks.contains(m) { w += " (and no IPVS fwmark service uses its mark \(m))" }
            result.warnings.append(w)
        }
        result.groups = order.sorted().compactMap { byMark[$0] }
        for g in result.groups {
            guard let have = serviceFamilies[g.mark], have != g.families else { continue }
            func names(_ f: Set<IPAddress.Family>) -> String { f.sorted { $0.rawValue < $1.rawValue }.map(\.description).joined(separator: " and ") }
            result.familyMismatch[g.name] = "its entries are \(names(g.families)) but mark \(g.mark)'s fwmark services are \(names(have)); "
                + "an lvsh group has a service per family it holds, so taking it over would add or drop one"
        }
        return result
    }

    /// The first entry of `entries` that overlaps an entry of another mark's group or of lvsh's groups.
    static func overlap(_ entries: [PortGroupEntry], ignoringMark mark: UInt32, in groups: [UInt32: PortGroup],
                        owned: [PortGroup]) -> (PortGroupEntry, PortGroupEntry, String)? {
        for e in entries {
            for (m, g) in groups where m != mark {
                if let b = g.entries.first(where: { e.overlaps($0) }) { return (e, b, "the rules of mark \(m)") }
            }
            for g in owned {
                if let b = g.entries.first(where: { e.overlaps($0) }) { return (e, b, "lvsh's group \(g.name)") }
            }
        }
        return nil
    }

    /// Entries of one mark with overlapping or touching port ranges of the same address and protocol
    /// joined (two rules may mark the same port; a group lists each port once).
    static func merged(_ entries: [PortGroupEntry]) -> [PortGroupEntry] {
        var out: [PortGroupEntry] = []
        for e in entries.sorted() {
            if let last = out.last, last.address == e.address, last.protocolName == e.protocolName,
               Int(e.ports.lowerBound) <= Int(last.ports.upperBound) + 1 {
                out[out.count - 1].ports = last.ports.lowerBound...max(last.ports.upperBound, e.ports.upperBound)
            } else {
                out.append(e)
            }
        }
        return out
    }
}
