/// What re-defining a group changes in its entries, port by port, and how to say it in one line.
public enum PortGroupDifference {
    /// The ports of `entries` that `others` do not cover, as entries (per address and protocol).
    public static func entries(_ entries: [PortGroupEntry], notIn others: [PortGroupEntry]) -> [PortGroupEntry] {
        var covered: [Key: [ClosedRange<UInt16>]] = [:]
        for e in others { covered[Key(e), default: []].append(e.ports) }
        var out: [PortGroupEntry] = []
        for e in entries {
            var left = [e.ports]
            for cut in covered[Key(e)] ?? [] { left = left.flatMap { subtract(cut, from: $0) } }
            out += left.map { PortGroupEntry(address: e.address, protocol: e.protocolName, ports: $0) }
        }
        return out.sorted()
    }

    /// "tcp 443 on 192.0.2.1; udp 53,5000-5100 on any address": entries with the same ports share a
    /// clause; beyond `limit` addresses in a clause or `limit` clauses, a count says the rest.
    public static func text(_ entries: [PortGroupEntry], limit: Int = 6) -> String {
        // Per address, in order: each protocol with its ports ("tcp 80,443 udp 53"), which decide the clause.
        var perAddress: [(address: IPAddress?, ports: [(L4Protocol, [String])])] = []
        for e in entries.sorted() {
            let range = e.ports.lowerBound == e.ports.upperBound ? "\(e.ports.lowerBound)" : "\(e.ports.lowerBound)-\(e.ports.upperBound)"
            if perAddress.last?.address != e.address || perAddress.isEmpty { perAddress.append((e.address, [])) }
            let i = perAddress.count - 1
            if let j = perAddress[i].ports.firstIndex(where: { $0.0 == e.protocolName }) {
                perAddress[i].ports[j].1.append(range)
            } else {
                perAddress[i].ports.append((e.protocolName, [range]))
            }
        }
        var clauses: [(ports: String, addresses: [String])] = []
        for (address, protocols) in perAddress {
            let ports = protocols.map { "\($0.0) \($0.1.joined(separator: ","))" }.joined(separator: " ")
            let name = address?.description ?? "any address"
            if let i = clauses.firstIndex(where: { $0.ports == ports }) { clauses[i].addresses.append(name) } else { clauses.append((ports, [name])) }
        }
        var parts = clauses.prefix(limit).map { clause in
            let shown = clause.addresses.prefix(limit).joined(separator: ", ")
            let more = clause.addresses.count > limit ? " and \(clause.addresses.count - limit) more addresses" : ""
            return "\(clause.ports) on \(shown)\(more)"
        }
        if clauses.count > limit { parts.append("and \(clauses.count - limit) more") }
        return parts.joined(separator: "; ")
    }

    private struct Key: Hashable {
        let address: IPAddress?
        let protocolName: L4Protocol
        init(_ e: PortGroupEntry) {
            address = e.address
            protocolName = e.protocolName
        }
    }

    /// `range` without the ports of `cut`: none, one or two ranges.
    static func subtract(_ cut: ClosedRange<UInt16>, from range: ClosedRange<UInt16>) -> [ClosedRange<UInt16>] {
        guard cut.overlaps(range) else { return [range] }
        var out: [ClosedRange<UInt16>] = []
        if range.lowerBound < cut.lowerBound { out.append(range.lowerBound...(cut.lowerBound - 1)) }
        if range.upperBound > cut.upperBound { out.append((cut.upperBound + 1)...range.upperBound) }
        return out
    }
}
