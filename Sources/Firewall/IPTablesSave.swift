import LVSModel

/// lvsh's part of one family's mangle table, as `iptables-save -t mangle` prints it.
struct IPTablesChainState: Hashable, Sendable {
    /// A rule in a hook chain that jumps to lvsh's chain, kept as saved so it can be deleted by spec.
    struct Jump: Hashable, Sendable {
        var chain: String
        var spec: String
    }

    var chainExists = false
    /// Jumps to LVSH from PREROUTING and OUTPUT (lvsh's own, or added by hand).
    var jumps: [Jump] = []
    /// The chain's rules as saved: the text after `-A LVSH `.
    var ruleSpecs: [String] = []
    /// How many rules each hook chain (PREROUTING, OUTPUT) holds, jumps to LVSH included.
    var hookRules: [String: Int] = [:]
    /// Each hook chain's policy as saved (`:PREROUTING ACCEPT [0:0]`).
    var hookPolicies: [String: String] = [:]

    /// Equal when lvsh's part is: its chain, its rules and the jumps. The hooks' rule counts and
    /// policies are context, read only to clean up after the last rule (IPTablesScript.rewrite).
    static func == (a: IPTablesChainState, b: IPTablesChainState) -> Bool {
        a.chainExists == b.chainExists && a.jumps == b.jumps && a.ruleSpecs == b.ruleSpecs
    }

    func hash(into h: inout Hasher) {
        h.combine(chainExists)
        h.combine(jumps)
        h.combine(ruleSpecs)
    }

    /// Whether every hook has a jump to the chain.
    var hasAllJumps: Bool {
        IPTablesLayout.hooks.allSatisfy { hook in jumps.contains { $0.chain == hook } }
    }
}

/// Reads `iptables-save` output back into lvsh's rules and groups: the pure half of reading.
enum IPTablesSave {
    /// Picks lvsh's chain, its rules and the jumps to it out of save output (other tables and
    /// chains are skipped; comment lines such as iptables-nft's warnings too).
    static func chainState(fromSave text: String) -> IPTablesChainState {
        var state = IPTablesChainState()
        var inMangle = false
        let chainDeclaration = ":\(IPTablesLayout.chain) "
        let chainRule = "-A \(IPTablesLayout.chain) "
        for line in lines(text) {
            if line.hasPrefix("*") { inMangle = line == "*\(IPTablesLayout.table)"; continue }
            guard inMangle else { continue }
            if line.hasPrefix(chainDeclaration) {
                state.chainExists = true
            } else if line.hasPrefix(chainRule) {
                state.ruleSpecs.append(String(line.dropFirst(chainRule.count)))
            } else {
                for hook in IPTablesLayout.hooks where line.hasPrefix(":\(hook) ") {
                    state.hookPolicies[hook] = line.dropFirst(hook.count + 2).split(separator: " ").first.map(String.init)
                }
                for hook in IPTablesLayout.hooks where line.hasPrefix("-A \(hook) ") {
                    state.hookRules[hook, default: 0] += 1
                    let spec = line.dropFirst("-A \(hook) ".count)
                    if let words = try? tokens(spec), words.suffix(2) == ["-j", IPTablesLayout.chain] {
                        state.jumps.append(.init(chain: hook, spec: String(spec)))
                    }
                }
            }
        }
        return state
    }

    /// How many rules a save output holds, and whether lvsh's chain is among them: what flavour
    /// detection weighs.
    static func census(fromSave text: String) -> IPTablesCensus {
        var census = IPTablesCensus(rules: 0, hasChain: false)
        var inMangle = false
        for line in lines(text) {
            if line.hasPrefix("*") { inMangle = line == "*\(IPTablesLayout.table)" }
            if line.hasPrefix("-A ") { census.rules += 1 }
            if inMangle && line.hasPrefix(":\(IPTablesLayout.chain) ") { census.hasChain = true }
        }
        return census
    }

    /// The non-empty lines of a text, split on UTF-8 bytes: splitting a String on Characters costs
    /// grapheme breaking, most of the reading time at 10,000 rules.
    static func lines(_ text: String) -> [Substring] {
        text.utf8.split(separator: UInt8(ascii: "\n")).map { Substring($0) }
    }

    /// Splits a saved rule into words as iptables-save quotes them: `"..."` with `\"` and `\\`.
    /// Works on UTF-8 bytes: at 10,000 rules, reading is mostly this loop.
    static func tokens(_ spec: Substring) throws(IPTablesParseError) -> [String] {
        var out: [String] = []
        var word: [UInt8] = []
        var inWord = false, quoted = false, escaped = false
        let quote = UInt8(ascii: "\""), backslash = UInt8(ascii: "\\"), space = UInt8(ascii: " "), tab = UInt8(ascii: "\t")
        for c in spec.utf8 {
            if escaped { word.append(c); escaped = false; continue }
            if quoted {
                if c == backslash { escaped = true } else if c == quote { quoted = false } else { word.append(c) }
                continue
            }
            if c == space || c == tab {
                if inWord { out.append(String(decoding: word, as: UTF8.self)); word.removeAll(keepingCapacity: true); inWord = false }
            } else if c == quote {
                quoted = true; inWord = true
            } else {
                word.append(c); inWord = true
            }
        }
        if quoted || escaped { throw IPTablesParseError("unterminated quote") }
        if inWord { out.append(String(decoding: word, as: UTF8.self)) }
        return out
    }

    /// Reads one rule of lvsh's chain. Strict on purpose: a rule with any option lvsh does not write
    /// is refused rather than half understood, because lvsh rewrites the chain whole.
    static func rule(fromSpec spec: String, family: IPAddress.Family) throws(IPTablesParseError) -> IPTablesRule {
        let words = try tokens(Substring(spec))
        var address: IPAddress?, proto: L4Protocol?, ports: [ClosedRange<UInt16>]?
        var modules: [String] = [], comment: String?, mark: UInt32?, target: String?
        var i = 0
        func value() throws(IPTablesParseError) -> String {
            guard i + 1 < words.count else { throw IPTablesParseError("\(words[i]) has no value") }
            i += 1
            return words[i]
        }
        while i < words.count {
            switch words[i] {
            case "-d":
                address = try destination(try value(), family: family)
            case "-p":
                let name = try value()
                guard let p = L4Protocol(name: name) else { throw IPTablesParseError("protocol \(name) is not tcp, udp or sctp") }
                proto = p
            case "-m":
                let m = try value()
                guard ["comment", "multiport", proto?.description].contains(m) else { throw IPTablesParseError("match -m \(m)") }
                modules.append(m)
            case "--dport" where proto.map { modules.contains($0.description) } ?? false:
                ports = [try portRange(try value())]
            case "--dports" where modules.contains("multiport"):
                var list: [ClosedRange<UInt16>] = []
                for part in try value().split(separator: ",", omittingEmptySubsequences: false) { list.append(try portRange(String(part))) }
                ports = list
            case "--comment" where modules.last == "comment":
                comment = try value()
            case "-j":
                target = try value()
                guard target == "MARK", i + 2 < words.count, words[i + 1] == "--set-xmark" else {
                    throw IPTablesParseError("target -j \(target ?? "")")
                }
                i += 1
                mark = try markValue(try value())
            default:
                throw IPTablesParseError("option \(words[i])")
            }
            i += 1
        }
        guard let comment else { throw IPTablesParseError("no lvsh comment") }
        if comment.hasPrefix(IPTablesLayout.generationPrefix) {
            guard address == nil, proto == nil, target == nil, let n = UInt64(comment.dropFirst(IPTablesLayout.generationPrefix.count)) else {
                throw IPTablesParseError("malformed generation marker")
            }
            return .generation(n)
        }
        guard comment.hasPrefix(IPTablesLayout.groupPrefix) else { throw IPTablesParseError("comment is not lvsh's") }
        let parts = comment.dropFirst(IPTablesLayout.groupPrefix.count).split(separator: " ")
        guard let name = parts.first.map(String.init), PortGroupRules.isValidName(name) else {
            throw IPTablesParseError("group name in comment is not valid")
        }
        if parts.count == 3 && parts[1] == IPTablesLayout.emptyWord && parts[2].hasPrefix(IPTablesLayout.markWord) {
            guard address == nil, proto == nil, target == nil,
                  let m = try? markNumber(parts[2].dropFirst(IPTablesLayout.markWord.count)) else {
                throw IPTablesParseError("malformed empty-group marker")
            }
            return .emptyGroup(name: name, mark: m)
        }
        guard parts.count == 1, let proto, let mark else { throw IPTablesParseError("a mark rule needs a protocol and -j MARK") }
        if modules.contains("multiport") && ports == nil { throw IPTablesParseError("-m multiport without --dports") }
        // `-p tcp -m tcp` without --dport is how iptables-save prints the full range 0:65535.
        return .mark(group: name, mark: mark, address: address, protocol: proto, ports: ports ?? [0...65535])
    }

    /// Gathers the rules of both families' chains into groups (sorted by name, entries sorted).
    /// An `any` entry stands in both chains and comes back once.
    static func groups(from rules: [IPTablesRule]) throws(IPTablesParseError) -> [PortGroup] {
        var marks: [String: UInt32] = [:]
        var entries: [String: Set<PortGroupEntry>] = [:]
        func note(_ name: String, _ mark: UInt32) throws(IPTablesParseError) {
            if let m = marks[name], m != mark {
                throw IPTablesParseError("group \(name) has rules with mark \(IPTablesRule.hex(m)) and with \(IPTablesRule.hex(mark))")
            }
            marks[name] = mark
            entries[name, default: []].formUnion([])
        }
        for rule in rules {
            switch rule {
            case let .mark(group, mark, address, proto, ports):
                try note(group, mark)
                for r in ports { entries[group, default: []].insert(PortGroupEntry(address: address, protocol: proto, ports: r)) }
            case let .emptyGroup(name, mark):
                try note(name, mark)
            case .generation:
                break
            }
        }
        return marks.keys.sorted().map { PortGroup(name: $0, mark: marks[$0]!, entries: entries[$0, default: []].sorted()) }
    }

    private static func destination(_ text: String, family: IPAddress.Family) throws(IPTablesParseError) -> IPAddress {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        let full = family == .v4 ? "32" : "128"
        guard let a = IPAddress(String(parts[0])), a.family == family, parts.count == 1 || (parts.count == 2 && parts[1] == full) else {
            throw IPTablesParseError("destination \(text) is not one \(family) address")
        }
        return a
    }

    private static func portRange(_ text: String) throws(IPTablesParseError) -> ClosedRange<UInt16> {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), let lo = UInt16(parts[0]), let hi = UInt16(parts.last!), lo <= hi else {
            throw IPTablesParseError("port \(text)")
        }
        return lo...hi
    }

    private static func markValue(_ text: String) throws(IPTablesParseError) -> UInt32 {
        let parts = text.split(separator: "/")
        guard parts.count == 2, parts[1] == "0xffffffff" else { throw IPTablesParseError("mark \(text) is not a whole-mark set") }
        return try markNumber(parts[0])
    }

    private static func markNumber(_ text: Substring) throws(IPTablesParseError) -> UInt32 {
        guard text.hasPrefix("0x"), let m = UInt32(text.dropFirst(2), radix: 16) else { throw IPTablesParseError("mark \(text)") }
        return m
    }
}

/// Rule counts of one flavour's save output, for flavour detection.
struct IPTablesCensus: Hashable, Sendable {
    var rules: Int
    var hasChain: Bool
}

/// Why a rule in lvsh's chain is not one lvsh wrote; the backend turns it into an LVSError.
struct IPTablesParseError: Error, Hashable, Sendable {
    var reason: String
    init(_ reason: String) { self.reason = reason }
}
