import LVSModel

/// Table inet lvsh in the text form `nft list table inet lvsh` uses, rendered from the groups read
/// back from the kernel: `show rules` without running nft.
enum NFTText {
    static func render(_ groups: [PortGroup]) -> String {
        func hex(_ mark: UInt32) -> String {
            let h = String(mark, radix: 16)
            return "0x" + String(repeating: "0", count: max(0, 8 - h.count)) + h
        }
        func ports(_ r: ClosedRange<UInt16>) -> String {
            r.lowerBound == r.upperBound ? "\(r.lowerBound)" : "\(r.lowerBound)-\(r.upperBound)"
        }
        // nft puts each element of a map on its own line, and those of a plain set five to a line.
        func elements(_ items: [String], perLine: Int = 1) -> String {
            guard !items.isEmpty else { return "" }
            let lines = stride(from: 0, to: items.count, by: perLine).map {
                items[$0..<min($0 + perLine, items.count)].joined(separator: ", ")
            }
            return "\t\telements = { " + lines.joined(separator: ",\n\t\t\t     ") + " }\n"
        }
        var v4: [String] = [], v6: [String] = [], any: [String] = []
        // In the order lvsh writes one batch's elements (by entry, across groups), which is the order
        // the kernel keeps and nft lists; elements added by later edits come last in nft's listing.
        let all = groups.flatMap { g in g.entries.map { (entry: $0, mark: g.mark) } }.sorted { $0.entry < $1.entry }
        for (e, mark) in all {
            let key = "\(ports(e.ports)) . \(e.protocolName)"
            switch e.address?.family {
            case .v4: v4.append("\(key) . \(e.address!) : \(hex(mark))")
            case .v6: v6.append("\(key) . \(e.address!) : \(hex(mark))")
            case nil: any.append("\(key) : \(hex(mark))")
            }
        }
        let names = groups.sorted { $0.mark < $1.mark }.map { "\(hex($0.mark)) comment \"\($0.name)\"" }
        var out = "table inet \(NFTLayout.table) {\n"
        out += "\tcomment \"\(NFTLayout.tableComment)\"\n"
        out += "\tset \(NFTLayout.groupsSet) {\n\t\ttype mark\n" + elements(names, perLine: 5) + "\t}\n\n"
        for (name, type, items) in [("v4", "ipv4_addr", v4), ("v6", "ipv6_addr", v6), ("any", "", any)] {
            let key = type.isEmpty ? "inet_service . inet_proto" : "inet_service . inet_proto . \(type)"
            out += "\tmap \(name) {\n\t\ttype \(key) : mark\n\t\tflags interval\n" + elements(items) + "\t}\n\n"
        }
        for (i, chain) in NFTLayout.chains.enumerated() {
            out += "\tchain \(chain.name) {\n"
            out += "\t\ttype \(chain.type) hook \(chain.name) priority mangle; policy accept;\n"
            out += "\t\tmeta mark set th dport . meta l4proto . ip daddr map @v4\n"
            out += "\t\tmeta mark set th dport . meta l4proto . ip6 daddr map @v6\n"
            out += "\t\tmeta mark set th dport . meta l4proto map @any\n"
            out += "\t}\n" + (i < NFTLayout.chains.count - 1 ? "\n" : "")
        }
        return out + "}\n"
    }
}

extension NFTablesBackend {
    /// lvsh's table as nft would list it; empty when lvsh has written nothing yet.
    public func rulesText() throws(LVSError) -> String {
        Self.rulesText(of: try groups())
    }

    /// The table lvsh writes for `groups`, as nft would list it (a batch's `show rules` before its commit).
    public static func rulesText(of groups: [PortGroup]) -> String {
        groups.isEmpty ? "" : NFTText.render(groups)
    }
}
