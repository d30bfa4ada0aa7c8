/// One (address or any, protocol, port range) of a port group.
public struct PortGroupEntry: Hashable, Sendable, Comparable {
    /// nil matches every destination address ("any").
    public var address: IPAddress?
    public var protocolName: L4Protocol
    public var ports: ClosedRange<UInt16>

    public init(address: IPAddress?, protocol p: L4Protocol, ports: ClosedRange<UInt16>) {
        self.address = address
        self.protocolName = p
        self.ports = ports
    }

    /// Whether a packet could match both entries.
    public func overlaps(_ other: PortGroupEntry) -> Bool {
        guard protocolName == other.protocolName, ports.overlaps(other.ports) else { return false }
        guard let a = address, let b = other.address else { return true }
        return a == b
    }

    /// Orders by family (any first), address, protocol, then port.
    public static func < (a: PortGroupEntry, b: PortGroupEntry) -> Bool {
        func rank(_ x: PortGroupEntry) -> (Int, IPAddress) {
            guard let addr = x.address else { return (0, .zero(.v4)) }
            return (addr.family == .v4 ? 1 : 2, addr)
        }
        let (ra, aa) = rank(a), (rb, ab) = rank(b)
        if ra != rb { return ra < rb }
        if aa != ab { return aa < ab }
        if a.protocolName != b.protocolName { return a.protocolName.rawValue < b.protocolName.rawValue }
        return (a.ports.lowerBound, a.ports.upperBound) < (b.ports.lowerBound, b.ports.upperBound)
    }

    /// "192.168.61.129 tcp 80", "any udp 5060-5061".
    public var description: String {
        let p = ports.lowerBound == ports.upperBound ? "\(ports.lowerBound)" : "\(ports.lowerBound)-\(ports.upperBound)"
        return "\(address?.description ?? "any") \(protocolName) \(p)"
    }
}

extension PortGroupEntry: Codable {
    private enum Keys: String, CodingKey { case address, `protocol`, ports }

    /// The frozen JSON shape: {"address": "192.168.61.129" | null, "protocol": "tcp", "ports": [80, 80]}.
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: Keys.self)
        if let address { try c.encode(address, forKey: .address) } else { try c.encodeNil(forKey: .address) }
        try c.encode(protocolName.description, forKey: .protocol)
        try c.encode([ports.lowerBound, ports.upperBound], forKey: .ports)
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: Keys.self)
        address = try c.decodeIfPresent(IPAddress.self, forKey: .address)
        let name = try c.decode(String.self, forKey: .protocol)
        guard let p = L4Protocol(name: name) else {
            throw DecodingError.dataCorruptedError(forKey: .protocol, in: c, debugDescription: "unknown protocol \(name)")
        }
        protocolName = p
        let r = try c.decode([UInt16].self, forKey: .ports)
        guard r.count == 2, r[0] <= r[1] else {
            throw DecodingError.dataCorruptedError(forKey: .ports, in: c, debugDescription: "ports must be [low, high]")
        }
        ports = r[0]...r[1]
    }
}

/// A named set of entries sharing one firewall mark, which an IPVS fwmark service balances as one.
public struct PortGroup: Hashable, Sendable, Codable {
    public var name: String
    public var mark: UInt32
    public var entries: [PortGroupEntry]

    public init(name: String, mark: UInt32, entries: [PortGroupEntry]) {
        self.name = name
        self.mark = mark
        self.entries = entries
    }

    /// The address families the group's entries use; "any" entries count for both.
    public var families: Set<IPAddress.Family> {
        var f = Set<IPAddress.Family>()
        for e in entries {
            if let a = e.address { f.insert(a.family) } else { f.formUnion([.v4, .v6]) }
        }
        return f
    }
}

/// Rules that hold across all groups: unique names and marks, no overlapping entries.
public enum PortGroupRules {
    /// The first mark lvsh hands out, keepalived's convention.
    public static let firstAllocatedMark: UInt32 = 1000

    /// The lowest mark from 1000 upward that no group and no fwmark service uses.
    public static func allocateMark(excluding used: Set<UInt32>) -> UInt32 {
        var m = firstAllocatedMark
        while used.contains(m) { m += 1 }
        return m
    }

    /// Checks a group against the others (which it replaces if one has its name).
    public static func check(_ group: PortGroup, against others: [PortGroup]) throws(LVSError) {
        guard isValidName(group.name) else {
            throw .badInput("group name '\(Shown.word(group.name))' is not valid: use letters, digits, '-', '_' or '.', starting with a letter (at most 64)")
        }
        guard group.mark != 0 else {
            throw .badInput("group \(group.name): mark 0 means 'no mark' to the kernel; choose a mark from 1 to 4294967295, or leave it out to get one from 1000 up")
        }
        for (i, a) in group.entries.enumerated() {
            for b in group.entries[(i + 1)...] where a.overlaps(b) {
                throw .badInput("group \(group.name): entries '\(a.description)' and '\(b.description)' overlap; list each port once")
            }
        }
        for other in others where other.name != group.name {
            if other.mark == group.mark {
                throw .badInput("group \(group.name): mark \(group.mark) is already used by group \(other.name); choose another mark or leave it out")
            }
            for a in group.entries {
                if let b = other.entries.first(where: { a.overlaps($0) }) {
                    throw .badInput("group \(group.name): '\(a.description)' overlaps '\(b.description)' of group \(other.name); a packet can carry only one mark, so remove the port from one of them")
                }
            }
        }
    }

    public static func isValidName(_ name: String) -> Bool {
        // ASCII only, so bytes decide (every word of a file is checked against this).
        func letter(_ b: UInt8) -> Bool { (b | 0x20) >= UInt8(ascii: "a") && (b | 0x20) <= UInt8(ascii: "z") }
        let bytes = name.utf8
        guard let first = bytes.first, bytes.count <= 64, letter(first) else { return false }
        return bytes.allSatisfy { b in
            letter(b) || (b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9")) || b == UInt8(ascii: "-") || b == UInt8(ascii: "_") || b == UInt8(ascii: ".")
        }
    }
}
