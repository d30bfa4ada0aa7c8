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
        // Hash maps list in the kernel's hash order, which lvsh cannot know: in entry order here.
        // Interval maps list sorted by key, as one big number per key (the range's last key without
        // the end marker).
        var items: [NFTMap: [String]] = [:]
        var ranges: [NFTMap: [(key: NFTKey, text: String)]] = [:]
        let all = groups.flatMap { g in g.entries.map { (entry: $0, mark: g.mark) } }.sorted { $0.entry < $1.entry }
        for (e, mark) in all {
            let map = NFTMap(for: e)
            switch map.kind {
            case .ports:
                let key = "\(e.protocolName) . \(e.ports.lowerBound)"
                items[map, default: []].append((e.address.map { "\($0) . " } ?? "") + "\(key) : \(hex(mark))")
            case .ranges:
                let first = NFTElementCodec.key(of: e, port: e.ports.lowerBound), last = NFTElementCodec.key(of: e, port: e.ports.upperBound)
                ranges[map, default: []].append((first, "\(decimal(first))-\(decimal(last)) : \(hex(mark))"))
            }
        }
        for (map, list) in ranges { items[map] = list.sorted { $0.key < $1.key }.map(\.text) }
        let names = groups.sorted { $0.mark < $1.mark }.map { "\(hex($0.mark)) comment \"\($0.name)\"" }
        var out = "table inet \(NFTLayout.table) {\n"
        out += "\tcomment \"\(NFTLayout.tableComment)\"\n"
        out += "\tset \(NFTLayout.groupsSet) {\n\t\ttype mark\n" + elements(names, perLine: 5) + "\t}\n\n"
        for map in NFTMap.allCases {
            out += "\tmap \(map.setName) {\n"
            switch map.kind {
            case .ports:
                out += "\t\ttype \(map.keyWords) : mark\n" + elements(items[map, default: []])
            case .ranges:
                out += "\t\ttype 0 : mark\n\t\tflags interval\n\t\tcomment \"\(map.comment ?? "")\"\n"
                out += elements(items[map, default: []], perLine: 5)
            }
            out += "\t}\n\n"
        }
        for (i, chain) in NFTLayout.chains.enumerated() {
            out += "\tchain \(chain.name) {\n"
            out += "\t\ttype \(chain.type) hook \(chain.name) priority mangle; policy accept;\n"
            for map in NFTMap.allCases {
                let address = ["v4": "ip daddr . ", "v6": "ip6 daddr . ", "any": ""][map.family.rawValue]!
                out += "\t\tmeta mark set \(address)meta l4proto . th dport map @\(map.setName)\n"
            }
            out += "\t}\n" + (i < NFTLayout.chains.count - 1 ? "\n" : "")
        }
        return out + "}\n"
    }

    /// A key as the unsigned big-endian number nft prints for an integer-typed key.
    static func decimal(_ key: NFTKey) -> String {
        var limbs = key.bytes.reduce(into: [UInt32]()) { limbs, byte in
            // Base 2^8 digits → base 10^9 limbs, most significant first.
            var carry = UInt64(byte)
            for i in limbs.indices.reversed() {
                let v = UInt64(limbs[i]) << 8 + carry
                limbs[i] = UInt32(v % 1_000_000_000)
                carry = v / 1_000_000_000
            }
            while carry > 0 {
                limbs.insert(UInt32(carry % 1_000_000_000), at: 0)
                carry /= 1_000_000_000
            }
        }
        if limbs.isEmpty { limbs = [0] }
        var text = String(limbs[0])
        for limb in limbs.dropFirst() {
            let digits = String(limb)
            text += String(repeating: "0", count: 9 - digits.count) + digits
        }
        return text
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
