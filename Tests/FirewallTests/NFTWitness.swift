import Foundation
import LVSModel

/// Reads lvsh's table through `nft -j`, independently of lvsh's own reader.
struct NFTWitness {
    let ns: NFTTestNamespace

    /// `nft -j list table inet lvsh`, or [] when the table does not exist.
    func objects() throws -> [[String: Any]] {
        guard try ns.nft("list tables").contains("table inet lvsh") else { return [] }
        return try ns.nftJSON("list table inet lvsh")
    }

    /// Map name → its elements as "ADDRESS PROTO PORTS=MARK" (ADDRESS "any" for the address-less maps).
    /// Hash maps list concatenations; interval maps list each range as two hex numbers, decoded here
    /// from nft's text: address bytes, protocol register, port register.
    func mapElements() throws -> [String: [String]] {
        var out: [String: [String]] = [:]
        for o in try objects() {
            guard let m = o["map"] as? [String: Any], let name = m["name"] as? String else { continue }
            var elems: [String] = []
            for el in m["elem"] as? [Any] ?? [] {
                guard let pair = el as? [Any], pair.count == 2 else { continue }
                if let range = (pair[0] as? [String: Any])?["range"] as? [String], range.count == 2,
                   let first = Self.decode(range[0], name), let last = Self.decode(range[1], name) {
                    elems.append("\(first.address) \(first.proto) \(first.port)-\(last.port)=\(Self.text(pair[1]))")
                    continue
                }
                let parts = ((pair[0] as? [String: Any])?["concat"] as? [Any]) ?? [pair[0]]
                var words = parts.map(Self.text)
                if words.count == 2 { words.insert("any", at: 0) }
                elems.append(words.joined(separator: " ") + "=\(Self.text(pair[1]))")
            }
            out[name] = elems.sorted()
        }
        return out
    }

    /// A key of an interval map as nft -j prints it ("0x..." without leading zeros).
    static func decode(_ hex: String, _ map: String) -> (address: String, proto: String, port: Int)? {
        let length = map.hasPrefix("v6") ? 24 : map.hasPrefix("v4") ? 12 : 8
        guard hex.hasPrefix("0x") else { return nil }
        var digits = String(hex.dropFirst(2))
        digits = String(repeating: "0", count: max(0, length * 2 - digits.count)) + digits
        var bytes: [UInt8] = []
        var i = digits.startIndex
        while i < digits.endIndex {
            let j = digits.index(i, offsetBy: 2)
            guard let b = UInt8(digits[i..<j], radix: 16) else { return nil }
            bytes.append(b)
            i = j
        }
        let a = length - 8
        let address: String
        switch a {
        case 4: address = bytes[0..<4].map { String($0) }.joined(separator: ".")
        case 16:
            address = IPAddress(v6High: bytes[0..<8].reduce(0) { $0 << 8 | UInt64($1) },
                                low: bytes[8..<16].reduce(0) { $0 << 8 | UInt64($1) }).description
        default: address = "any"
        }
        let proto = [6: "tcp", 17: "udp", 132: "sctp"][Int(bytes[a])] ?? "proto\(bytes[a])"
        return (address, proto, Int(bytes[a + 4]) << 8 | Int(bytes[a + 5]))
    }

    /// The `groups` set as mark → comment.
    func names() throws -> [Int: String] {
        var out: [Int: String] = [:]
        for o in try objects() {
            guard let s = o["set"] as? [String: Any], s["name"] as? String == "groups" else { continue }
            for el in s["elem"] as? [Any] ?? [] {
                guard let e = (el as? [String: Any])?["elem"] as? [String: Any], let v = e["val"] as? Int else { continue }
                out[v] = e["comment"] as? String
            }
        }
        return out
    }

    /// Chain name → the number of rules in it.
    func ruleCounts() throws -> [String: Int] {
        var out: [String: Int] = [:]
        for o in try objects() {
            if let c = o["chain"] as? [String: Any], let n = c["name"] as? String { out[n, default: 0] += 0 }
            if let r = o["rule"] as? [String: Any], let c = r["chain"] as? String { out[c, default: 0] += 1 }
        }
        return out
    }

    static func text(_ v: Any) -> String {
        if let r = (v as? [String: Any])?["range"] as? [Any], r.count == 2 { return "\(text(r[0]))-\(text(r[1]))" }
        return "\(v)"
    }

    static let mapNames = ["v4_ports", "v4_ranges", "v6_ports", "v6_ranges", "any_ports", "any_ranges"]

    /// What the witness should show for `groups` (every map, empty ones too).
    static func expectedElements(_ groups: [PortGroup]) -> [String: [String]] {
        var out = Dictionary(uniqueKeysWithValues: mapNames.map { ($0, [String]()) })
        for g in groups {
            for e in g.entries {
                let family = e.address.map { $0.family == .v4 ? "v4" : "v6" } ?? "any"
                let map = family + (e.ports.count == 1 ? "_ports" : "_ranges")
                let ports = e.ports.count == 1 ? "\(e.ports.lowerBound)" : "\(e.ports.lowerBound)-\(e.ports.upperBound)"
                out[map, default: []].append("\(e.address?.description ?? "any") \(e.protocolName) \(ports)=\(g.mark)")
            }
        }
        return out.mapValues { $0.sorted() }
    }
}
