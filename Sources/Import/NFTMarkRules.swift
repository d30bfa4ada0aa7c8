import LVSModel

/// `nft -j list ruleset` → the rules that set a whole mark (`meta mark set N`) on destination
/// address / protocol / port matches, as port-group entries. Table inet lvsh is lvsh's own and is
/// skipped, as are the tables given in `skipping` ("ip mangle": iptables-nft's, read from its save).
public enum NFTMarkRules {
    public static func scan(json text: String, skipping: Set<String> = []) throws(LVSError) -> MarkRuleScan {
        guard let root = JSONValue.parse(text), let items = root["nftables"]?.array else {
            throw .failed("`nft -j list ruleset` printed something that is not nft's JSON")
        }
        var scan = MarkRuleScan()
        struct Chain { var hook: String?; var type: String?; var prio: Int? }
        var chains: [String: Chain] = [:]
        var rules: [(key: String, table: String, family: String, chain: String, expr: [JSONValue], handle: Int, comment: String?)] = []
        for item in items {
            if let c = item["chain"] {
                let key = "\(c["family"]?.string ?? "") \(c["table"]?.string ?? "") \(c["name"]?.string ?? "")"
                chains[key] = Chain(hook: c["hook"]?.string, type: c["type"]?.string, prio: c["prio"]?.int)
            } else if let r = item["rule"] {
                let family = r["family"]?.string ?? "", table = r["table"]?.string ?? "", chain = r["chain"]?.string ?? ""
                rules.append(("\(family) \(table) \(chain)", table, family, chain, r["expr"]?.array ?? [], r["handle"]?.int ?? 0, r["comment"]?.string))
            }
        }
        // Plain jumps (`jump NAME` alone) let a regular chain count as its caller.
        var jumps: [String: [(from: String, plain: Bool)]] = [:]
        for r in rules {
            for e in r.expr {
                if let t = e["jump"]?["target"]?.string ?? e["goto"]?["target"]?.string {
                    jumps["\(r.family) \(r.table) \(t)", default: []].append((r.key, r.expr.count == 1 || (r.expr.count == 2 && r.expr[0]["counter"] != nil)))
                }
            }
        }
        func counts(_ key: String, _ depth: Int = 0) -> String? {
            if let c = chains[key], let hook = c.hook {
                if c.type == "nat" { return "a nat chain sees only the first packet of a connection, so later packets are not marked" }
                let prio = c.prio ?? 0
                switch hook {
                case "prerouting": return nil
                case "input" where prio < 98: return nil
                case "output" where prio < -98: return nil
                default: return "IPVS does not see marks set in a \(hook) chain at priority \(prio)"
                }
            }
            guard depth < 8, let from = jumps[key], !from.isEmpty else { return "the chain is not a base chain and no plain jump leads to it" }
            for f in from {
                guard f.plain else { return "the chain is reached through a conditional jump" }
                if let why = counts(f.from, depth + 1) { return why }
            }
            return nil
        }
        for r in rules {
            if r.family == "inet" && r.table == "lvsh" { continue }
            if skipping.contains("\(r.family) \(r.table)") { continue }
            guard r.expr.contains(where: { isMarkSet($0) }) || r.expr.contains(where: { $0["xt"]?["name"]?.string == "MARK" }) else { continue }
            // nft -j gives no rule text: the handle (`nft -a list chain ...` shows it) and the comment say which.
            let origin = "nft \(r.family) \(r.table) \(r.chain) handle \(r.handle)" + (r.comment.map { " (comment \"\($0)\")" } ?? "")
            var result = rule(r.expr, family: r.family, origin: origin)
            if case .success(let m) = result, let why = counts(r.key) {
                result = .failure(.init(origin: origin, mark: m.mark, reason: why))
            }
            switch result {
            case .success(let m): scan.rules.append(m)
            case .failure(let u): scan.unexpressed.append(u)
            }
        }
        return scan
    }

    static func isMarkSet(_ e: JSONValue) -> Bool {
        e["mangle"]?["key"]?["meta"]?["key"]?.string == "mark"
    }

    static func rule(_ expr: [JSONValue], family: String, origin: String) -> Result<MarkRule, UnexpressedRule> {
        var addresses: [IPAddress]?
        var protocols: [L4Protocol]?
        var ports: [ClosedRange<UInt16>]?
        var mark: UInt32?
        var problem: String?
        var nfproto: IPAddress.Family?
        let familyOf: IPAddress.Family? = family == "ip" ? .v4 : family == "ip6" ? .v6 : nil
        func fail(_ why: String) { problem = problem ?? why }
        for e in expr {
            if let m = e["mangle"] {
                guard isMarkSet(e), let v = m["value"]?.int, v >= 0, v <= Int(UInt32.max) else {
                    fail("it sets the mark from an expression (a map or arithmetic), not one number")
                    continue
                }
                mark = UInt32(v)
            } else if let m = e["match"] {
                let op = m["op"]?.string ?? "=="
                guard op == "==" || op == "in" else { fail("it compares with \(op)"); continue }
                let left = m["left"], right = m["right"]
                if let p = left?["payload"], let field = p["field"]?.string, let proto = p["protocol"]?.string {
                    switch (proto, field) {
                    case ("ip", "daddr"), ("ip6", "daddr"):
                        let f: IPAddress.Family = proto == "ip" ? .v4 : .v6
                        guard let list = addressList(right, family: f) else { fail("its destination is not a list of addresses or small prefixes"); continue }
                        addresses = list
                    case ("ip", "protocol"), ("ip6", "nexthdr"):
                        guard let list = protocolList(right) else { fail("it matches protocols other than tcp, udp and sctp"); continue }
                        protocols = list
                    case ("tcp", "dport"), ("udp", "dport"), ("sctp", "dport"), ("th", "dport"):
                        guard let list = portList(right) else { fail("its ports cannot be read"); continue }
                        ports = list
                        if proto != "th" {
                            let p = MarkMatch.proto(proto)!
                            if let have = protocols, have != [p] { fail("its protocol and port matches disagree") }
                            protocols = [p]
                        }
                    default:
                        fail("it matches on \(proto) \(field), which lvsh groups do not have")
                    }
                } else if let key = left?["meta"]?["key"]?.string {
                    switch key {
                    case "l4proto":
                        guard let list = protocolList(right) else { fail("it matches protocols other than tcp, udp and sctp"); continue }
                        protocols = list
                    case "nfproto":
                        guard let f = right?.string, f == "ipv4" || f == "ipv6" else { fail("it matches meta nfproto other than one family"); continue }
                        nfproto = f == "ipv4" ? .v4 : .v6
                        if let familyOf, familyOf != nfproto { fail("it matches no packet") }
                    default:
                        fail("it matches on meta \(key), which lvsh groups do not have")
                    }
                } else {
                    fail("it matches on something lvsh groups do not have")
                }
            } else if e["counter"] != nil || e["accept"] != nil || e["continue"] != nil {
                continue
            } else if e["xt"] != nil {
                fail("it uses an iptables extension (xt \(e["xt"]?["name"]?.string ?? "")): iptables-nft's, which lvsh reads with iptables-nft-save when that tool is installed")
            } else {
                fail("it holds \(e.object?.first?.0 ?? "an expression") lvsh groups do not have")
            }
        }
        if problem == nil && mark == nil { problem = "its mark cannot be read" }
        if problem == nil && protocols == nil {
            problem = ports == nil ? "it marks every protocol; lvsh groups mark tcp, udp or sctp ports" : "its ports have no protocol"
        }
        if let problem { return .failure(.init(origin: origin, mark: mark, reason: problem)) }
        let only = addresses == nil ? familyOf ?? nfproto : nil
        return .success(MarkRule(origin: origin, mark: mark!, entries: MarkMatch.entries(addresses: addresses, protocols: protocols!, ports: ports ?? [0...65535]),
                                 onlyFamily: only))
    }

    static func items(_ v: JSONValue?) -> [JSONValue]? {
        guard let v else { return nil }
        if let set = v["set"]?.array { return set }
        if let a = v.array { return a }
        return [v]
    }

    static func addressList(_ v: JSONValue?, family: IPAddress.Family) -> [IPAddress]? {
        guard let list = items(v) else { return nil }
        var out: [IPAddress] = []
        for item in list {
            if let s = item.string, let a = MarkMatch.addresses(s, family: family) {
                out += a
            } else if let p = item["prefix"], let addr = p["addr"]?.string, let len = p["len"]?.int,
                      let a = MarkMatch.addresses("\(addr)/\(len)", family: family) {
                out += a
            } else {
                return nil
            }
        }
        return out
    }

    static func protocolList(_ v: JSONValue?) -> [L4Protocol]? {
        guard let list = items(v) else { return nil }
        var out: [L4Protocol] = []
        for item in list {
            guard let p = item.string.flatMap(MarkMatch.proto) ?? item.int.flatMap({ MarkMatch.proto(String($0)) }) else { return nil }
            out.append(p)
        }
        return out
    }

    static func portList(_ v: JSONValue?) -> [ClosedRange<UInt16>]? {
        guard let list = items(v) else { return nil }
        var out: [ClosedRange<UInt16>] = []
        for item in list {
            if let n = item.int, let p = UInt16(exactly: n) {
                out.append(p...p)
            } else if let r = item["range"]?.array, r.count == 2, let a = r[0].int.flatMap({ UInt16(exactly: $0) }),
                      let b = r[1].int.flatMap({ UInt16(exactly: $0) }), a <= b {
                out.append(a...b)
            } else {
                return nil
            }
        }
        return out
    }
}

/// Just enough JSON for `nft -j`: values, with lookups that answer nil on the wrong shape.
indirect enum JSONValue: Sendable {
    case null, bool(Bool), number(Double), string(String), array([JSONValue]), object([(String, JSONValue)])

    subscript(key: String) -> JSONValue? {
        if case .object(let members) = self { return members.first { $0.0 == key }?.1 }
        return nil
    }

    var string: String? { if case .string(let s) = self { s } else { nil } }
    var array: [JSONValue]? { if case .array(let a) = self { a } else { nil } }
    var object: [(String, JSONValue)]? { if case .object(let o) = self { o } else { nil } }
    var int: Int? {
        if case .number(let d) = self, d == d.rounded(), abs(d) < 1e15 { return Int(d) }
        return nil
    }

    static func parse(_ text: String) -> JSONValue? {
        var p = Parser(bytes: Array(text.utf8))
        guard let v = p.value() else { return nil }
        p.space()
        return p.i == p.bytes.count ? v : nil
    }

    struct Parser {
        let bytes: [UInt8]
        var i = 0
        var depth = 0

        mutating func space() {
            while i < bytes.count, [0x20, 0x09, 0x0a, 0x0d].contains(bytes[i]) { i += 1 }
        }

        mutating func literal(_ s: String) -> Bool {
            let u = Array(s.utf8)
            guard bytes.count - i >= u.count, Array(bytes[i..<i + u.count]) == u else { return false }
            i += u.count
            return true
        }

        mutating func value() -> JSONValue? {
            space()
            guard i < bytes.count, depth < 64 else { return nil }
            switch bytes[i] {
            case UInt8(ascii: "{"):
                i += 1; depth += 1; defer { depth -= 1 }
                var members: [(String, JSONValue)] = []
                space()
                if i < bytes.count, bytes[i] == UInt8(ascii: "}") { i += 1; return .object(members) }
                while true {
                    space()
                    guard let k = string() else { return nil }
                    space()
                    guard i < bytes.count, bytes[i] == UInt8(ascii: ":") else { return nil }
                    i += 1
                    guard let v = value() else { return nil }
                    members.append((k, v))
                    space()
                    guard i < bytes.count else { return nil }
                    if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
                    if bytes[i] == UInt8(ascii: "}") { i += 1; return .object(members) }
                    return nil
                }
            case UInt8(ascii: "["):
                i += 1; depth += 1; defer { depth -= 1 }
                var items: [JSONValue] = []
                space()
                if i < bytes.count, bytes[i] == UInt8(ascii: "]") { i += 1; return .array(items) }
                while true {
                    guard let v = value() else { return nil }
                    items.append(v)
                    space()
                    guard i < bytes.count else { return nil }
                    if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
                    if bytes[i] == UInt8(ascii: "]") { i += 1; return .array(items) }
                    return nil
                }
            case UInt8(ascii: "\""):
                return string().map(JSONValue.string)
            case UInt8(ascii: "t"): return literal("true") ? .bool(true) : nil
            case UInt8(ascii: "f"): return literal("false") ? .bool(false) : nil
            case UInt8(ascii: "n"): return literal("null") ? .null : nil
            default:
                let start = i
                while i < bytes.count, "+-0123456789.eE".utf8.contains(bytes[i]) { i += 1 }
                guard i > start, let d = Double(String(decoding: bytes[start..<i], as: UTF8.self)) else { return nil }
                return .number(d)
            }
        }

        mutating func string() -> String? {
            guard i < bytes.count, bytes[i] == UInt8(ascii: "\"") else { return nil }
            i += 1
            var out: [UInt8] = []
            while i < bytes.count {
                let b = bytes[i]
                i += 1
                if b == UInt8(ascii: "\"") { return String(decoding: out, as: UTF8.self) }
                if b != UInt8(ascii: "\\") { out.append(b); continue }
                guard i < bytes.count else { return nil }
                let e = bytes[i]
                i += 1
                switch e {
                case UInt8(ascii: "n"): out.append(0x0a)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "r"): out.append(0x0d)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0c)
                case UInt8(ascii: "u"):
                    guard bytes.count - i >= 4, let v = UInt32(String(decoding: bytes[i..<i + 4], as: UTF8.self), radix: 16) else { return nil }
                    i += 4
                    out += Array(String(Character(Unicode.Scalar(v) ?? "?")).utf8)
                default: out.append(e)
                }
            }
            return nil
        }
    }
}
