import Firewall
import LVSModel
import Engine

/// `group ...`, `group NAME add|del ...`, `no group NAME`: the frozen syntax of DESIGN.md.
enum GroupCommands {
    /// `vip ADDRESS[,ADDRESS...]|any PROTO PORTS [PROTO PORTS...]`
    static let entries: Syntax = .sequence([
        .word("vip", help: "the addresses the entries match"),
        .value("vips", .addressList, help: "addresses, comma-separated, or any for every address"),
        .repeated(.sequence([
            .oneOf("proto", [("tcp", "TCP ports"), ("udp", "UDP ports"), ("sctp", "SCTP ports")]),
            .value("ports", .ports, help: "ports and ranges, e.g. 80,443,8000-8100"),
        ])),
    ])

    static let commands: [Command] = [
        Command(.sequence([
            .word("group", help: "a port group: addresses and ports that share one firewall mark"),
            .value("name", .name, help: "the group's name"),
            .optional(entries),
            .optional(.sequence([.word("mark", help: "the group's mark (default: the first free from 1000)"),
                                 .value("mark", .mark, help: "decimal or 0x-hex, not 0")])),
        ]), summary: "create a port group, or replace the entries of one (without entries: an empty group)",
           examples: ["group web vip 192.168.61.129 tcp 80,443", "group dns vip any udp 53 tcp 53 mark 0x10"],
           handler: .change(put)),
        Command(.sequence([
            .word("group", help: "a port group"),
            .value("name", .groupName, help: "an existing group"),
            .word("add", help: "add entries to the group"),
            entries,
        ]), summary: "add entries to a port group", examples: ["group web add vip 192.168.61.129 tcp 8443"],
           handler: .change(add)),
        Command(.sequence([
            .word("group", help: "a port group"),
            .value("name", .groupName, help: "an existing group"),
            .word("del", help: "remove entries from the group"),
            entries,
        ]), summary: "remove entries from a port group", examples: ["group web del vip 192.168.61.129 tcp 8443"],
           handler: .change(delete)),
        Command(.sequence([
            .word("no", help: "remove what the command after it creates"),
            .word("group", help: "a port group"),
            .value("name", .groupName, help: "an existing group"),
        ]), summary: "remove a port group and stop marking its packets", examples: ["no group web"],
           handler: .change(remove)),
    ]

    /// The entries the words describe: every address with every protocol's ports.
    static func parseEntries(_ b: Bindings) throws(LVSError) -> [PortGroupEntry] {
        // No `vip` words, or `any`: every address.
        let addresses: [IPAddress?] = b.addresses("vips") ?? [nil]
        var result: [PortGroupEntry] = []
        for (proto, ports) in zip(b.all("proto"), b.portLists("ports")) {
            guard let p = L4Protocol(name: proto) else { throw .badInput("unknown protocol '\(Shown.word(proto))': use tcp, udp or sctp") }
            for range in ports {
                for a in addresses { result.append(PortGroupEntry(address: a, protocol: p, ports: range)) }
            }
        }
        return result
    }

    @Sendable static func put(_ b: Bindings, _ c: inout Candidate) throws(LVSError) {
        let name = b.first("name")!
        let existing = c.groups[name]
        let mark: UInt32
        if let given = b.mark("mark") {
            mark = given
        } else if let existing {
            mark = existing.mark
        } else if let old = c.preferredMarks[name], c.group(forMark: old) == nil {
            mark = old
        } else {
            mark = c.allocateGroupMark()
        }
        if let existing, existing.mark != mark,
           let bound = c.table.services.first(where: { if case .fwmark(let m, _) = $0.service.key { m == existing.mark } else { false } }) {
            throw .badInput("group \(name) would change its mark from \(existing.mark) to \(mark), but \(ServiceReference.describe(bound.service.key, in: c)) balances its packets; remove the service first (`no service \(name)`), or keep the mark")
        }
        let group = PortGroup(name: name, mark: mark, entries: try parseEntries(b))
        guard let existing else { return try c.apply(.put(group), "add group \(name) mark \(mark)") }
        // Re-defining replaces the entries: say what goes (a shorter list drops ports silently otherwise).
        let removed = PortGroupDifference.entries(existing.entries, notIn: group.entries)
        let added = PortGroupDifference.entries(group.entries, notIn: existing.entries)
        var summary = "replace the entries of group \(name)"
        let changes = (added.isEmpty ? [] : ["adds " + PortGroupDifference.text(added)])
            + (removed.isEmpty ? [] : ["removes " + PortGroupDifference.text(removed)])
        summary += changes.isEmpty ? " (the same entries)" : ": " + changes.joined(separator: "; ")
        try c.apply(.put(group), summary)
        if c.redefinedGroups[name] == nil { c.redefinedGroups[name] = (existing.entries, c.location) }
    }

    @Sendable static func add(_ b: Bindings, _ c: inout Candidate) throws(LVSError) {
        let name = b.first("name")!
        try c.apply(.addEntries(group: name, try parseEntries(b)), "add entries to group \(name)")
    }

    @Sendable static func delete(_ b: Bindings, _ c: inout Candidate) throws(LVSError) {
        let name = b.first("name")!
        try c.apply(.deleteEntries(group: name, try parseEntries(b)), "remove entries from group \(name)")
    }

    @Sendable static func remove(_ b: Bindings, _ c: inout Candidate) throws(LVSError) {
        let name = b.first("name")!
        guard let group = c.groups[name] else {
            throw .badInput("there is no group \(name) (`show groups` lists them)")
        }
        try c.apply(.delete(group: name), "remove group \(name)")
        for s in c.table.services {
            if case .fwmark(let m, _) = s.service.key, m == group.mark {
                c.warn("fwmark service \(m) stays, but no packet gets its mark any more; remove it with `no service fwmark \(m)\(s.service.key.family == .v6 ? " ipv6" : "")`")
            }
        }
    }

    /// A group as the commands that recreate it: `group NAME vip ... mark N`, then `group NAME add vip ...`.
    static func commands(for group: PortGroup) -> [String] {
        // Entries per address, as protocol → port list; addresses with the same lists share a clause.
        var perAddress: [(IPAddress?, [(L4Protocol, [ClosedRange<UInt16>])])] = []
        var seen: [String: Int] = [:]
        for e in group.entries.sorted() {
            let key = e.address?.description ?? "any"
            if seen[key] == nil {
                seen[key] = perAddress.count
                perAddress.append((e.address, []))
            }
            let i = seen[key]!
            if let j = perAddress[i].1.firstIndex(where: { $0.0 == e.protocolName }) {
                perAddress[i].1[j].1.append(e.ports)
            } else {
                perAddress[i].1.append((e.protocolName, [e.ports]))
            }
        }
        var clauses: [(addresses: [String], ports: String)] = []
        for (address, protocols) in perAddress {
            let ports = protocols.map { p, ranges in
                "\(p) " + ranges.map { $0.lowerBound == $0.upperBound ? "\($0.lowerBound)" : "\($0.lowerBound)-\($0.upperBound)" }.joined(separator: ",")
            }.joined(separator: " ")
            let name = address?.description ?? "any"
            if let i = clauses.firstIndex(where: { $0.ports == ports && $0.addresses != ["any"] && name != "any" }) {
                clauses[i].addresses.append(name)
            } else {
                clauses.append(([name], ports))
            }
        }
        guard let first = clauses.first else { return ["group \(group.name) mark \(group.mark)"] }
        var lines = ["group \(group.name) vip \(first.addresses.joined(separator: ",")) \(first.ports) mark \(group.mark)"]
        for clause in clauses.dropFirst() {
            lines.append("group \(group.name) add vip \(clause.addresses.joined(separator: ",")) \(clause.ports)")
        }
        return lines
    }
}
