/// An IPv4 or IPv6 address, stored as 128 bits so that both families share one fast value type.
public struct IPAddress: Hashable, Sendable, Comparable {
    /// The address family, with the kernel's AF_* numbers.
    public enum Family: UInt16, Hashable, Sendable, Codable, CustomStringConvertible {
        case v4 = 2
        case v6 = 10

        public var description: String { self == .v4 ? "IPv4" : "IPv6" }
    }

    public let family: Family
    /// For IPv4 only the low 32 bits are used.
    public let high: UInt64
    public let low: UInt64

    /// An IPv4 address from its value in host byte order (192.168.0.1 is 0xC0A80001).
    public init(v4 value: UInt32) {
        family = .v4
        high = 0
        low = UInt64(value)
    }

    /// An IPv6 address from its two 64-bit halves in host byte order.
    public init(v6High high: UInt64, low: UInt64) {
        family = .v6
        self.high = high
        self.low = low
    }

    /// The address from network-order bytes: 4 for IPv4, 16 for IPv6.
    public init?<C: Collection>(bytes: C) where C.Element == UInt8 {
        switch bytes.count {
        case 4:
            self.init(v4: bytes.reduce(0) { $0 << 8 | UInt32($1) })
        case 16:
            let a = Array(bytes)
            self.init(v6High: a[0..<8].reduce(0) { $0 << 8 | UInt64($1) },
                      low: a[8..<16].reduce(0) { $0 << 8 | UInt64($1) })
        default:
            return nil
        }
    }

    /// The IPv4 value in host byte order (0 for IPv6).
    public var v4Value: UInt32 { UInt32(truncatingIfNeeded: low) }

    /// Network-order bytes: 4 for IPv4, 16 for IPv6.
    public var bytes: [UInt8] {
        switch family {
        case .v4:
            let v = v4Value
            return [UInt8(v >> 24), UInt8(v >> 16 & 0xff), UInt8(v >> 8 & 0xff), UInt8(v & 0xff)]
        case .v6:
            return (0..<8).map { UInt8(high >> (56 - 8 * $0) & 0xff) }
                + (0..<8).map { UInt8(low >> (56 - 8 * $0) & 0xff) }
        }
    }

    /// The unspecified address of a family (0.0.0.0 or ::).
    public static func zero(_ family: Family) -> IPAddress {
        family == .v4 ? IPAddress(v4: 0) : IPAddress(v6High: 0, low: 0)
    }

    public var isZero: Bool { high == 0 && low == 0 }

    public static func < (a: IPAddress, b: IPAddress) -> Bool {
        (a.family.rawValue, a.high, a.low) < (b.family.rawValue, b.high, b.low)
    }
}

extension IPAddress: LosslessStringConvertible {
    /// Parses dotted-quad IPv4 or any RFC 4291 IPv6 text form (including an embedded IPv4 tail).
    public init?(_ text: String) {
        if text.contains(":") {
            guard let v = IPAddress.parseV6(Substring(text)) else { return nil }
            self = v
        } else {
            guard let v = IPAddress.parseV4(Substring(text)) else { return nil }
            self.init(v4: v)
        }
    }

    static func parseV4(_ text: Substring) -> UInt32? {
        var value: UInt32 = 0
        var parts = 0
        for part in text.split(separator: ".", omittingEmptySubsequences: false) {
            guard !part.isEmpty, part.count <= 3, part.allSatisfy({ $0.isASCII && $0.isNumber }),
                  let n = UInt32(part), n <= 255 else { return nil }
            // Reject octal-looking forms such as 010: inet_pton does too.
            if part.count > 1 && part.first == "0" { return nil }
            value = value << 8 | n
            parts += 1
        }
        return parts == 4 ? value : nil
    }

    private static func splitOnDoubleColon(_ text: Substring) -> [Substring] {
        var parts: [Substring] = []
        var start = text.startIndex
        var i = text.startIndex
        while i < text.endIndex {
            let next = text.index(after: i)
            if text[i] == ":" && next < text.endIndex && text[next] == ":" {
                parts.append(text[start..<i])
                start = text.index(after: next)
                i = start
            } else {
                i = next
            }
        }
        parts.append(text[start...])
        return parts
    }

    static func parseV6(_ text: Substring) -> IPAddress? {
        var groups: [UInt16] = []
        var gapAt: Int? = nil
        let halves = splitOnDoubleColon(text)
        guard halves.count <= 2 else { return nil }
        func parseGroups(_ s: Substring, allowV4Tail: Bool) -> [UInt16]? {
            if s.isEmpty { return [] }
            var out: [UInt16] = []
            let items = s.split(separator: ":", omittingEmptySubsequences: false)
            for (i, item) in items.enumerated() {
                if allowV4Tail && i == items.count - 1 && item.contains(".") {
                    guard let v4 = parseV4(item) else { return nil }
                    out.append(UInt16(v4 >> 16))
                    out.append(UInt16(v4 & 0xffff))
                } else {
                    guard !item.isEmpty, item.count <= 4, let g = UInt16(item, radix: 16) else { return nil }
                    out.append(g)
                }
            }
            return out
        }
        if halves.count == 2 {
            guard let a = parseGroups(halves[0], allowV4Tail: false),
                  let b = parseGroups(halves[1], allowV4Tail: true) else { return nil }
            guard a.count + b.count <= 7 else { return nil }
            groups = a
            gapAt = a.count
            groups += b
        } else {
            guard let a = parseGroups(halves[0], allowV4Tail: true), a.count == 8 else { return nil }
            groups = a
        }
        if let gapAt {
            groups.insert(contentsOf: repeatElement(0, count: 8 - groups.count), at: gapAt)
        }
        var hi: UInt64 = 0, lo: UInt64 = 0
        for g in groups[0..<4] { hi = hi << 16 | UInt64(g) }
        for g in groups[4..<8] { lo = lo << 16 | UInt64(g) }
        return IPAddress(v6High: hi, low: lo)
    }

    /// The text form inet_ntop gives: dotted quad, or RFC 5952 IPv6 with `::` for the longest zero run.
    public var description: String {
        switch family {
        case .v4:
            let v = v4Value
            return "\(v >> 24).\(v >> 16 & 0xff).\(v >> 8 & 0xff).\(v & 0xff)"
        case .v6:
            let g: [UInt16] = (0..<4).map { UInt16(truncatingIfNeeded: high >> (48 - 16 * $0)) }
                + (0..<4).map { UInt16(truncatingIfNeeded: low >> (48 - 16 * $0)) }
            // glibc prints IPv4-mapped and IPv4-compatible addresses with a dotted tail.
            if g[0..<5].allSatisfy({ $0 == 0 }) && (g[5] == 0xffff || (g[5] == 0 && g[6] != 0)) {
                let tail = "\(g[6] >> 8).\(g[6] & 0xff).\(g[7] >> 8).\(g[7] & 0xff)"
                return g[5] == 0xffff ? "::ffff:" + tail : "::" + tail
            }
            var bestStart = -1, bestLen = 0, i = 0
            while i < 8 {
                if g[i] == 0 {
                    var j = i
                    while j < 8 && g[j] == 0 { j += 1 }
                    if j - i > bestLen { bestStart = i; bestLen = j - i }
                    i = j
                } else { i += 1 }
            }
            if bestLen < 2 { bestStart = -1 }
            var out = ""
            i = 0
            while i < 8 {
                if i == bestStart {
                    out += "::"
                    i += bestLen
                    continue
                }
                if !out.isEmpty && !out.hasSuffix(":") { out += ":" }
                out += String(g[i], radix: 16)
                i += 1
            }
            return out
        }
    }
}

extension IPAddress: Codable {
    public init(from decoder: Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let a = IPAddress(text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath,
                                                    debugDescription: "not an IP address: \(text)"))
        }
        self = a
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(description)
    }
}

extension IPAddress {
    /// An IPv4 netmask as a prefix length, or nil when the mask is not contiguous.
    public static func prefixLength(ofMask mask: UInt32) -> Int? {
        let len = mask.nonzeroBitCount
        let expected: UInt32 = len == 0 ? 0 : ~UInt32(0) << (32 - len)
        return mask == expected ? len : nil
    }
}
