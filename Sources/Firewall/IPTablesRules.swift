import LVSModel

/// The names and fixed texts of lvsh's iptables layout, shared by rendering, parsing and the backend.
enum IPTablesLayout {
    static let table = "mangle"
    /// lvsh's own chain: lvsh rewrites it whole and expects no one else to edit it.
    static let chain = "LVSH"
    /// Packets from outside pass PREROUTING; the director's own packets to a VIP pass OUTPUT.
    static let hooks = ["PREROUTING", "OUTPUT"]
    /// How a jump from a hook into the chain is written (and deleted, by this exact spec).
    static let jumpSpec = "-m comment --comment \"lvsh: mark port groups\" -j \(chain)"
    /// xt_multiport holds 15 slots per rule; a range takes two of them.
    static let multiportSlots = 15
    /// Mark rules carry "lvsh:NAME"; generation markers "lvsh generation N" (no colon, so never a name).
    static let groupPrefix = "lvsh:"
    static let generationPrefix = "lvsh generation "
    static let emptyWord = "empty"
    static let markWord = "mark="
}

/// One rule of lvsh's chain, as lvsh means it. Its `spec` is the text after `-A LVSH `, written exactly
/// as `iptables-save` prints it, so what lvsh writes and what it reads back compare as text.
enum IPTablesRule: Hashable, Sendable {
    /// Sets `mark` on packets to `address` (nil: any) of `protocol` whose destination port is in one of
    /// `ports` (one range, or up to 15 multiport slots).
    case mark(group: String, mark: UInt32, address: IPAddress?, protocol: L4Protocol, ports: [ClosedRange<UInt16>])
    /// Keeps the name and mark of a group without entries. It has no target: it matches every packet
    /// and does nothing to it, wherever it sits in the chain and whatever else changes.
    case emptyGroup(name: String, mark: UInt32)
    /// The chain's write counter, always the last rule. A write deletes (by spec) the generation it read
    /// before flushing, so a write based on a stale read fails whole: a compare-and-swap for iptables.
    case generation(UInt64)

    /// The rule's text after `-A LVSH `.
    var spec: String {
        switch self {
        case let .mark(group, mark, address, proto, ports):
            var words: [String] = []
            if let address { words += ["-d", "\(address)/\(address.family == .v4 ? 32 : 128)"] }
            words += ["-p", proto.description]
            if ports.count == 1 {
                // iptables-save drops a full 0:65535 range and prints a single port without ":".
                words += ["-m", proto.description]
                if ports[0] != 0...65535 { words += ["--dport", Self.text(ports[0])] }
            } else {
                words += ["-m", "multiport", "--dports", ports.map(Self.text).joined(separator: ",")]
            }
            words += ["-m", "comment", "--comment", Self.quoted(IPTablesLayout.groupPrefix + group)]
            words += ["-j", "MARK", "--set-xmark", "\(Self.hex(mark))/0xffffffff"]
            return words.joined(separator: " ")
        case let .emptyGroup(name, mark):
            let comment = "\(IPTablesLayout.groupPrefix)\(name) \(IPTablesLayout.emptyWord) \(IPTablesLayout.markWord)\(Self.hex(mark))"
            return "-m comment --comment \(Self.quoted(comment))"
        case let .generation(n):
            return "-m comment --comment \(Self.quoted(IPTablesLayout.generationPrefix + String(n)))"
        }
    }

    static func text(_ range: ClosedRange<UInt16>) -> String {
        range.lowerBound == range.upperBound ? "\(range.lowerBound)" : "\(range.lowerBound):\(range.upperBound)"
    }

    static func hex(_ mark: UInt32) -> String { "0x" + String(mark, radix: 16) }

    /// Quoted as iptables-save quotes (libxtables `xtables_save_string`): lvsh's comments always hold
    /// a ':' or a space, so always quoted. Names are plain ASCII (PortGroupRules.isValidName) and need
    /// no escapes, but escape as iptables does anyway, in case that rule ever loosens.
    static func quoted(_ s: String) -> String {
        var out = "\""
        for c in s {
            if c == "\"" || c == "\\" || c == "'" { out.append("\\") }
            out.append(c)
        }
        return out + "\""
    }
}

/// Turns port groups into the rules of one family's chain: the pure half of writing.
enum IPTablesRender {
    /// The chain's rules for `family`, without the generation marker: groups by name; within a group,
    /// entries in their sort order, one rule per (address, protocol) and batch of ports. A group with
    /// no entries gets an `emptyGroup` rule in the IPv4 chain only, so it is stored once.
    static func rules(for groups: [PortGroup], family: IPAddress.Family) -> [IPTablesRule] {
        var out: [IPTablesRule] = []
        for group in groups.sorted(by: { $0.name < $1.name }) {
            if group.entries.isEmpty {
                if family == .v4 { out.append(.emptyGroup(name: group.name, mark: group.mark)) }
                continue
            }
            let mine = group.entries.filter { $0.address == nil || $0.address?.family == family }.sorted()
            var i = 0
            while i < mine.count {
                // Entries are sorted by address then protocol, so each key's entries are adjacent.
                var j = i
                while j < mine.count && mine[j].address == mine[i].address && mine[j].protocolName == mine[i].protocolName { j += 1 }
                for batch in batches(mine[i..<j].map(\.ports)) {
                    out.append(.mark(group: group.name, mark: group.mark, address: mine[i].address,
                                     protocol: mine[i].protocolName, ports: batch))
                }
                i = j
            }
        }
        return out
    }

    /// The whole chain for `family`: the rules, then the generation marker; empty when no rules.
    static func chain(for groups: [PortGroup], family: IPAddress.Family, generation: UInt64) -> [IPTablesRule] {
        let r = rules(for: groups, family: family)
        return r.isEmpty ? [] : r + [.generation(generation)]
    }

    /// Splits port ranges (in order) into multiport batches of at most 15 slots, a range taking two.
    /// Greedy, in order: every batch but the last uses at least 14 of the 15 slots.
    static func batches(_ ranges: [ClosedRange<UInt16>]) -> [[ClosedRange<UInt16>]] {
        var out: [[ClosedRange<UInt16>]] = []
        var current: [ClosedRange<UInt16>] = []
        var used = 0
        for r in ranges {
            let cost = r.lowerBound == r.upperBound ? 1 : 2
            if used + cost > IPTablesLayout.multiportSlots {
                out.append(current)
                current = []
                used = 0
            }
            current.append(r)
            used += cost
        }
        if !current.isEmpty { out.append(current) }
        return out
    }
}
