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

    /// Map name → its elements as "ADDRESS PROTO PORTS=MARK" (ADDRESS "any" for the address-less map).
    func mapElements() throws -> [String: [String]] {
        var out: [String: [String]] = [:]
        for o in try objects() {
            guard let m = o["map"] as? [String: Any], let name = m["name"] as? String else { continue }
            var elems: [String] = []
            for el in m["elem"] as? [Any] ?? [] {
                guard let pair = el as? [Any], pair.count == 2 else { continue }
                let parts = ((pair[0] as? [String: Any])?["concat"] as? [Any]) ?? [pair[0]]
                var words = parts.map(Self.text)
                // nft shows PORTS . PROTO . ADDRESS; the witness writes ADDRESS PROTO PORTS.
                if words.count == 2 { words.append("any") }
                words.reverse()
                elems.append(words.joined(separator: " ") + "=\(Self.text(pair[1]))")
            }
            out[name] = elems.sorted()
        }
        return out
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

    /// What the witness should show for `groups`.
    static func expectedElements(_ groups: [PortGroup]) -> [String: [String]] {
        var out: [String: [String]] = [:]
        for g in groups {
            for e in g.entries {
                let map = e.address.map { $0.family == .v4 ? "v4" : "v6" } ?? "any"
                let ports = e.ports.count == 1 ? "\(e.ports.lowerBound)" : "\(e.ports.lowerBound)-\(e.ports.upperBound)"
                out[map, default: []].append("\(e.address?.description ?? "any") \(e.protocolName) \(ports)=\(g.mark)")
            }
        }
        return out.mapValues { $0.sorted() }
    }
}
