import LVSModel

/// A firewall rule of someone else's that sets a whole packet mark on (address, protocol, port)
/// matches: what `lvsh adopt` can carry as the entries of a port group.
public struct MarkRule: Hashable, Sendable {
    /// Where it was read, for messages: "iptables-legacy mangle PREROUTING: -d 10.0.0.1/32 ...".
    public var origin: String
    public var mark: UInt32
    public var entries: [PortGroupEntry]
    /// A rule without an address match that sees one family only (an iptables rule, an `ip` table's):
    /// its `any` entries mean every address of that family, which lvsh's `any` says only together with
    /// the same rule for the other family.
    public var onlyFamily: IPAddress.Family?

    public init(origin: String, mark: UInt32, entries: [PortGroupEntry], onlyFamily: IPAddress.Family? = nil) {
        self.origin = origin
        self.mark = mark
        self.entries = entries
        self.onlyFamily = onlyFamily
    }
}

/// A rule that sets a mark but that no lvsh group can say, with why.
public struct UnexpressedRule: Hashable, Sendable {
    public var origin: String
    /// The mark it sets, when that much could be read.
    public var mark: UInt32?
    public var reason: String

    public init(origin: String, mark: UInt32?, reason: String) {
        self.origin = origin
        self.mark = mark
        self.reason = reason
    }
}

extension UnexpressedRule: Error {}

/// What the readers of firewall dumps find: rules carried and rules not.
public struct MarkRuleScan: Sendable {
    public var rules: [MarkRule] = []
    public var unexpressed: [UnexpressedRule] = []

    public init(rules: [MarkRule] = [], unexpressed: [UnexpressedRule] = []) {
        self.rules = rules
        self.unexpressed = unexpressed
    }

    public mutating func merge(_ other: MarkRuleScan) {
        rules += other.rules
        unexpressed += other.unexpressed
    }
}

/// Pieces both readers share.
enum MarkMatch {
    /// Every address of `address/prefix`, when there are few enough to list (at most 256).
    static func addresses(_ text: String, family: IPAddress.Family?) -> [IPAddress]? {
        let parts = text.split(separator: "/", maxSplits: 1).map(String.init)
        guard let a = IPAddress(parts[0]), family == nil || a.family == family else { return nil }
        let bits = a.family == .v4 ? 32 : 128
        var prefix = bits
        if parts.count == 2 {
            if let n = Int(parts[1]), (0...bits).contains(n) {
                prefix = n
            } else if a.family == .v4, let mask = IPAddress(parts[1]), mask.family == .v4 {
                // iptables-save prints a non-contiguous mask as a dotted quad; a contiguous one as /N.
                let m = mask.v4Value
                guard m == 0 || (~m) & (~m &+ 1) == 0 else { return nil }
                prefix = m.nonzeroBitCount
            } else {
                return nil
            }
        }
        if prefix == bits { return [a] }
        guard bits - prefix <= 8 else { return nil }
        let count = 1 << (bits - prefix)
        if a.family == .v4 {
            let base = a.v4Value & ~UInt32(count - 1)
            return (0..<count).map { IPAddress(v4: base + UInt32($0)) }
        }
        let base = a.low & ~UInt64(count - 1)
        return (0..<count).map { IPAddress(v6High: a.high, low: base + UInt64($0)) }
    }

    static func proto(_ text: String) -> L4Protocol? {
        switch text.lowercased() {
        case "tcp", "6": .tcp
        case "udp", "17": .udp
        case "sctp", "132": .sctp
        default: nil
        }
    }

    /// "80", "1000:2000", "1000-2000" (nft), "80,443,8000:8100" (multiport).
    static func ports(_ text: String) -> [ClosedRange<UInt16>]? {
        var out: [ClosedRange<UInt16>] = []
        for item in text.split(separator: ",", omittingEmptySubsequences: false) {
            let ends = item.split(omittingEmptySubsequences: false, whereSeparator: { $0 == ":" || $0 == "-" })
            guard (1...2).contains(ends.count) else { return nil }
            guard let lo = UInt16(ends[0]) else { return nil }
            let hi: UInt16? = ends.count == 2 ? (ends[1].isEmpty ? 65535 : UInt16(ends[1])) : lo
            guard let hi, lo <= hi else { return nil }
            out.append(lo...hi)
        }
        return out.isEmpty ? nil : out
    }

    static func number(_ text: Substring) -> UInt32? {
        if text.hasPrefix("0x") || text.hasPrefix("0X") { return UInt32(text.dropFirst(2), radix: 16) }
        return UInt32(text)
    }

    /// The entries of addresses × protocols × ports; nil addresses means `any`.
    static func entries(addresses: [IPAddress]?, protocols: [L4Protocol], ports: [ClosedRange<UInt16>]) -> [PortGroupEntry] {
        var out: [PortGroupEntry] = []
        for a in addresses.map({ $0.map(Optional.some) }) ?? [nil] {
            for p in protocols {
                for r in ports { out.append(PortGroupEntry(address: a, protocol: p, ports: r)) }
            }
        }
        return out
    }
}
