/// An IPv4 or IPv6 address, stored as 128 bits so that both families share one fast value type.
public struct IPAddress: Hashable, Sendable, Comparable {
    /// The address family, with the kernel's AF_* numbers.
    public enum Family: UInt16, Hashable, Sendable, Codable, CustomStringConvertible {
        case v4 = 2
        case v6 = 10

        public var description: String { self == .v4 ? "IPv4" : "IPv6" }
    }

    // The family last: 17 bytes then, not 24, and what follows an address in a struct fills the
    // 7 bytes after it. A real server's status shrinks from 72 to 64 bytes, and a listing of
    // 40,000 holds them all (each page of them a first touch, ≈70 µs in user-mode-linux).
    /// For IPv4 only the low 32 bits are used.
    public let high: UInt64
    public let low: UInt64
    public let family: Family

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

    /// Whether this is an IPv4-mapped IPv6 address, ::ffff:a.b.c.d (RFC 4291 2.5.5.2).
    public var isV4Mapped: Bool { family == .v6 && high == 0 && low >> 32 == 0xffff }

    /// The IPv4 address an IPv4-mapped IPv6 address stands for; nil for any other address.
    public var unmappedV4: IPAddress? { isV4Mapped ? IPAddress(v4: UInt32(truncatingIfNeeded: low)) : nil }

    public static func < (a: IPAddress, b: IPAddress) -> Bool {
        (a.family.rawValue, a.high, a.low) < (b.family.rawValue, b.high, b.low)
    }
}

extension IPAddress: LosslessStringConvertible {
    /// Parses dotted-quad IPv4 or any RFC 4291 IPv6 text form (including an embedded IPv4 tail).
    public init?(_ text: String) {
        guard let a = IPAddress.parse(text.utf8) else { return nil }
        self = a
    }

    /// Parses the bytes of an address's text form (apply files hold tens of thousands of addresses,
    /// so this reads bytes, not Characters).
    public static func parse<S: Collection>(_ utf8: S) -> IPAddress? where S.Element == UInt8 {
        if let a = utf8.withContiguousStorageIfAvailable({ parse(bytes: $0) }) { return a }
        return Array(utf8).withUnsafeBufferPointer { parse(bytes: $0) }
    }

    static func parse(bytes: UnsafeBufferPointer<UInt8>) -> IPAddress? {
        if bytes.contains(UInt8(ascii: ":")) { return parseV6(bytes: bytes) }
        return parseV4(bytes: bytes[...]).map { IPAddress(v4: $0) }
    }

    static func parseV4(_ text: Substring) -> UInt32? {
        var text = text
        return text.withUTF8 { parseV4(bytes: $0[...]) }
    }

    static func parseV6(_ text: Substring) -> IPAddress? {
        var text = text
        return text.withUTF8 { parseV6(bytes: $0) }
    }

    /// Four decimal parts of 0 to 255, without leading zeros (inet_pton refuses octal-looking 010 too).
    static func parseV4(bytes: Slice<UnsafeBufferPointer<UInt8>>) -> UInt32? {
        var value: UInt32 = 0, part: UInt32 = 0, digits = 0, parts = 0
        var firstDigit: UInt8 = 0
        for b in bytes {
            if b == UInt8(ascii: ".") {
                guard digits > 0, parts < 3 else { return nil }
                value = value << 8 | part
                parts += 1
                part = 0
                digits = 0
                continue
            }
            guard b >= UInt8(ascii: "0"), b <= UInt8(ascii: "9"), digits < 3 else { return nil }
            if digits == 0 { firstDigit = b } else if firstDigit == UInt8(ascii: "0") { return nil }
            part = part * 10 + UInt32(b - UInt8(ascii: "0"))
            digits += 1
            guard part <= 255 else { return nil }
        }
        guard digits > 0, parts == 3 else { return nil }
        return value << 8 | part
    }

    /// Up to eight groups of one to four hex digits, at most one `::` standing for one or more zero
    /// groups, and optionally a dotted-quad tail as the last two groups.
    static func parseV6(bytes: UnsafeBufferPointer<UInt8>) -> IPAddress? {
        let n = bytes.count
        var head: [UInt16] = [], tail: [UInt16] = []
        head.reserveCapacity(8)
        var gap = false
        var i = 0
        func hex(_ b: UInt8) -> UInt16? {
            switch b {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): UInt16(b - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): UInt16(b - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): UInt16(b - UInt8(ascii: "A") + 10)
            default: nil
            }
        }
        if n >= 2 && bytes[0] == UInt8(ascii: ":") && bytes[1] == UInt8(ascii: ":") {
            gap = true
            i = 2
        }
        while i < n {
            let start = i
            var g: UInt16 = 0
            while i < n, i - start < 5, let d = hex(bytes[i]) {
                g = g << 4 | d
                i += 1
            }
            if i < n && bytes[i] == UInt8(ascii: ".") {
                // The dotted-quad tail: it runs to the end and counts as two groups.
                guard let v4 = parseV4(bytes: bytes[start..<n]) else { return nil }
                if gap { tail += [UInt16(v4 >> 16), UInt16(v4 & 0xffff)] } else { head += [UInt16(v4 >> 16), UInt16(v4 & 0xffff)] }
                i = n
                break
            }
            guard i > start, i - start <= 4 else { return nil }
            if gap { tail.append(g) } else { head.append(g) }
            guard head.count + tail.count <= 8 else { return nil }
            if i == n { break }
            guard bytes[i] == UInt8(ascii: ":") else { return nil }
            i += 1
            if i < n && bytes[i] == UInt8(ascii: ":") {
                guard !gap else { return nil }
                gap = true
                i += 1
            } else if i == n {
                return nil
            }
        }
        if gap {
            guard head.count + tail.count <= 7 else { return nil }
        } else {
            guard head.count == 8 else { return nil }
        }
        let all = head + Array(repeating: 0, count: 8 - head.count - tail.count) + tail
        var high: UInt64 = 0, low: UInt64 = 0
        for g in all[0..<4] { high = high << 16 | UInt64(g) }
        for g in all[4..<8] { low = low << 16 | UInt64(g) }
        return IPAddress(v6High: high, low: low)
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

extension IPAddress {
    /// ADDRESS:PORT as ipvsadm and lvsh write it, an IPv6 address in brackets: `[2001:db8::1]:80`.
    public func endpoint(_ port: UInt16) -> String {
        family == .v6 ? "[\(self)]:\(port)" : "\(self):\(port)"
    }
}
