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
        func elements(_ items: [String]) -> String {
            items.isEmpty ? "" : "\t\telements = { " + items.joined(separator: ",\n\t\t\t     ") + " }\n"
        }
        var v4: [String] = [], v6: [String] = [], any: [String] = []
        for g in groups {
            for e in g.entries.sorted() {
                let key = "\(e.protocolName) . \(ports(e.ports)) : \(hex(g.mark))"
                switch e.address?.family {
                case .v4: v4.append("\(e.address!) . \(key)")
                case .v6: v6.append("\(e.address!) . \(key)")
                case nil: any.append(key)
                }
            }
        }
        let names = groups.sorted { $0.mark < $1.mark }.map { "\(hex($0.mark)) comment \"\($0.name)\"" }
        var out = "table inet \(NFTLayout.table) {\n"
        out += "\tcomment \"\(NFTLayout.tableComment)\"\n"
        out += "\tset \(NFTLayout.groupsSet) {\n\t\ttype mark\n" + elements(names) + "\t}\n\n"
        for (name, type, items) in [("v4", "ipv4_addr", v4), ("v6", "ipv6_addr", v6), ("any", "", any)] {
            let key = type.isEmpty ? "inet_proto . inet_service" : "\(type) . inet_proto . inet_service"
            out += "\tmap \(name) {\n\t\ttype \(key) : mark\n\t\tflags interval\n" + elements(items) + "\t}\n\n"
        }
        for (i, chain) in NFTLayout.chains.enumerated() {
            out += "\tchain \(chain.name) {\n"
            out += "\t\ttype \(chain.type) hook \(chain.name) priority mangle; policy accept;\n"
            out += "\t\tmeta mark set ip daddr . meta l4proto . th dport map @v4\n"
            out += "\t\tmeta mark set ip6 daddr . meta l4proto . th dport map @v6\n"
            out += "\t\tmeta mark set meta l4proto . th dport map @any\n"
            out += "\t}\n" + (i < NFTLayout.chains.count - 1 ? "\n" : "")
        }
        return out + "}\n"
    }
}

extension NFTablesBackend {
    /// lvsh's table as nft would list it; empty when lvsh has written nothing yet.
    public func rulesText() throws(LVSError) -> String {
        let groups = try groups()
        return groups.isEmpty ? "" : NFTText.render(groups)
    }
}
