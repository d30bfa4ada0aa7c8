import LVSModel

/// `iptables-save` / `ip6tables-save` output (legacy or nft flavour) → the MARK rules it holds, as
/// port-group entries. lvsh's own chain (LVSH) and its jumps are skipped: they are lvsh's groups.
public enum IPTablesMarkRules {
    /// Where a mark set in a chain is seen by IPVS on every packet: IPVS looks at packets at LOCAL_IN
    /// (priority 98) and LOCAL_OUT (−98). nat chains see only a connection's first packet.
    static let builtins: Set<String> = ["raw PREROUTING", "raw OUTPUT", "mangle PREROUTING", "mangle INPUT",
                                        "mangle OUTPUT", "filter INPUT"]
    static let allBuiltins: Set<String> = ["PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING"]

    /// `tool` names the dump in messages ("iptables-legacy", "ip6tables-nft"); `family` is the
    /// family of the dump (v4 for iptables, v6 for ip6tables).
    public static func scan(_ text: String, tool: String, family: IPAddress.Family) -> MarkRuleScan {
        var scan = MarkRuleScan()
        // table → [(chain, tokens)] in order.
        var rules: [(table: String, chain: String, words: [String], line: String)] = []
        var table = ""
        for raw in text.split(separator: "\n") {
            var line = Substring(raw)
            if line.hasPrefix("*") { table = String(line.dropFirst()); continue }
            // `iptables-save -c` puts counters first.
            if line.hasPrefix("["), let close = line.firstIndex(of: "]") {
                line = line[line.index(after: close)...].drop(while: { $0 == " " })
            }
            guard line.hasPrefix("-A ") else { continue }
            guard let words = tokens(line.dropFirst(3)), words.count >= 1 else {
                scan.unexpressed.append(.init(origin: "\(tool) \(table): \(line)", mark: nil, reason: "lvsh cannot read its quoting"))
                continue
            }
            rules.append((table, words[0], Array(words.dropFirst()), String(line.dropFirst(3 + words[0].count + 1))))
        }
        // Jumps to user chains: a chain is followed when every jump to it is unconditional from a
        // chain where marks count (or from a chain followed so).
        var jumps: [String: [(from: String, plain: Bool)]] = [:]
        for r in rules {
            if let j = target(r.words), !allBuiltins.contains(j), !["MARK", "ACCEPT", "DROP", "RETURN", "REJECT", "LOG", "CONNMARK"].contains(j) {
                let plain = r.words.count == 2 || (r.words.count == 6 && r.words[0] == "-m" && r.words[1] == "comment")
                jumps["\(r.table) \(j)", default: []].append(("\(r.table) \(r.chain)", plain))
            }
        }
        func counts(_ chain: String, _ depth: Int = 0) -> Bool {
            if builtins.contains(chain) { return true }
            guard depth < 8, let from = jumps[chain], !from.isEmpty else { return false }
            return from.allSatisfy { $0.plain && counts($0.from, depth + 1) }
        }
        for r in rules {
            if r.chain == "LVSH" || isLVSHJump(r.words) { continue }
            if target(r.words) == "CONNMARK", r.words.contains("--restore-mark") {
                scan.unexpressed.append(.init(origin: "\(tool) \(r.table) \(r.chain): \(r.line)", mark: nil,
                                              reason: "it sets packet marks from the connection's mark (CONNMARK --restore-mark), which lvsh groups cannot"))
                continue
            }
            guard target(r.words) == "MARK" else { continue }
            let origin = "\(tool) \(r.table) \(r.chain): \(r.line)"
            var result = rule(r.words, family: family, origin: origin)
            if case .success(let m) = result, !counts("\(r.table) \(r.chain)") {
                let why = r.table == "nat"
                    ? "a nat chain sees only the first packet of a connection, so later packets are not marked"
                    : allBuiltins.contains(r.chain)
                        ? "IPVS does not see marks set in \(r.table) \(r.chain)"
                        : "chain \(r.chain) is reached through a conditional jump (or from a chain IPVS does not follow)"
                result = .failure(.init(origin: origin, mark: m.mark, reason: why))
            }
            switch result {
            case .success(let m): scan.rules.append(m)
            case .failure(let u): scan.unexpressed.append(u)
            }
        }
        return scan
    }

    static func target(_ words: [String]) -> String? {
        guard let i = words.lastIndex(where: { $0 == "-j" || $0 == "--jump" || $0 == "-g" || $0 == "--goto" }), i + 1 < words.count else { return nil }
        return words[i + 1]
    }

    static func isLVSHJump(_ words: [String]) -> Bool {
        target(words) == "LVSH"
    }

    /// One MARK rule's words (after `-A CHAIN`).
    static func rule(_ w: [String], family: IPAddress.Family, origin: String) -> Result<MarkRule, UnexpressedRule> {
        var addresses: [IPAddress]?
        var proto: L4Protocol?
        var ports: [ClosedRange<UInt16>]?
        var mark: UInt32?
        var problem: String?
        var i = 0
        func value() -> String? {
            i += 1
            return i < w.count ? w[i] : nil
        }
        while i < w.count {
            let word = w[i]
            switch word {
            case "!":
                problem = problem ?? "it negates a match (`! \(i + 1 < w.count ? w[i + 1] : "")`)"
                i += 1
            case "-d", "--destination", "--dst":
                guard let v = value() else { break }
                if v.hasSuffix("/0") || v.hasSuffix("/0.0.0.0") { break }
                guard let a = MarkMatch.addresses(v, family: family) else {
                    problem = problem ?? "its destination \(v) is not one address or a range of at most 256"
                    break
                }
                addresses = a
            case "-p", "--protocol":
                guard let v = value(), let p = MarkMatch.proto(v) else {
                    problem = problem ?? "its protocol \(i < w.count ? w[i] : "") is not tcp, udp or sctp"
                    break
                }
                proto = p
            case "-m", "--match":
                guard let v = value() else { break }
                if !["tcp", "udp", "sctp", "multiport", "comment"].contains(v) {
                    problem = problem ?? "it matches with -m \(v), which lvsh groups do not have"
                }
            case "--comment":
                if let v = value(), v.hasPrefix("lvsh") { return .failure(.init(origin: origin, mark: nil, reason: "lvsh's own")) }
            case "--dport", "--destination-port", "--dports", "--destination-ports":
                guard let v = value(), let p = MarkMatch.ports(v) else {
                    problem = problem ?? "its ports \(i < w.count ? w[i] : "") cannot be read"
                    break
                }
                ports = p
            case "-j", "--jump":
                _ = value()
            case "--set-xmark", "--set-mark":
                guard let v = value() else { break }
                let parts = v.split(separator: "/", maxSplits: 1)
                guard let n = MarkMatch.number(parts[0]) else {
                    problem = problem ?? "its mark \(v) cannot be read"
                    break
                }
                mark = n
                if parts.count == 2, MarkMatch.number(parts[1]) != 0xffff_ffff {
                    problem = problem ?? "it sets only the bits \(parts[1]) of the mark; lvsh groups set the whole mark"
                }
            case "--and-mark", "--or-mark", "--xor-mark":
                let v = value() ?? ""
                mark = mark ?? MarkMatch.number(Substring(v))
                problem = problem ?? "it changes the mark with \(word) \(v); lvsh groups set the whole mark"
            default:
                problem = problem ?? "it matches on \(word), which lvsh groups do not have"
                if i + 1 < w.count, !w[i + 1].hasPrefix("-") { i += 1 }
            }
            i += 1
        }
        if problem == nil && mark == nil { problem = "its mark cannot be read" }
        if problem == nil && proto == nil {
            problem = ports == nil ? "it marks every protocol; lvsh groups mark tcp, udp or sctp ports" : "its ports have no protocol"
        }
        if let problem { return .failure(.init(origin: origin, mark: mark, reason: problem)) }
        let entries = MarkMatch.entries(addresses: addresses, protocols: [proto!], ports: ports ?? [0...65535])
        return .success(MarkRule(origin: origin, mark: mark!, entries: entries, onlyFamily: addresses == nil ? family : nil))
    }

    /// Splits a saved rule into words, as iptables-save quotes them ("..." with \" and \\ inside).
    static func tokens(_ s: Substring) -> [String]? {
        var out: [String] = []
        var word = ""
        var inWord = false, quoted = false, escaped = false
        for c in s {
            if escaped { word.append(c); escaped = false; continue }
            if quoted {
                if c == "\\" { escaped = true } else if c == "\"" { quoted = false } else { word.append(c) }
                continue
            }
            switch c {
            case " ", "\t":
                if inWord { out.append(word); word = ""; inWord = false }
            case "\"":
                quoted = true
                inWord = true
            default:
                word.append(c)
                inWord = true
            }
        }
        guard !quoted else { return nil }
        if inWord { out.append(word) }
        return out
    }
}
