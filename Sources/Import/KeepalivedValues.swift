import LVSModel

/// keepalived's values, read as its handlers read them; a bad one is an error naming its place.
enum KeepalivedValues {
    static func fail(_ s: Statement, _ what: String) -> LVSError {
        .badInput("\(s.place): `\(shown(s.words))`: \(what)")
    }

    /// The words as the configuration wrote them, for messages (cut when long).
    static func shown(_ words: [String]) -> String {
        let text = words.map { $0.contains(" ") || $0.isEmpty ? "\"\($0)\"" : $0 }.joined(separator: " ")
        return Shown.word(text.count > 120 ? String(text.prefix(117)) + "..." : text)
    }

    /// The argument at `index` (1: the first after the keyword), which must be there.
    static func argument(_ s: Statement, _ index: Int, _ what: String) throws(LVSError) -> String {
        guard index < s.words.count else { throw fail(s, "needs \(what)") }
        return s.words[index]
    }

    static func unsigned(_ s: Statement, _ index: Int = 1, _ range: ClosedRange<UInt64>, what: String = "a whole number") throws(LVSError) -> UInt32 {
        let w = try argument(s, index, what)
        guard let v = number(w), range.contains(v) else {
            throw fail(s, "'\(Shown.word(w))' is not \(what) from \(range.lowerBound) to \(range.upperBound)")
        }
        return UInt32(v)
    }

    /// A decimal (or 0x-hex) number, as strtoul reads keepalived's numbers.
    static func number(_ w: String) -> UInt64? {
        if w.hasPrefix("0x") || w.hasPrefix("0X") { return UInt64(w.dropFirst(2), radix: 16) }
        guard !w.isEmpty, w.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        return UInt64(w)
    }

    static func signed(_ s: Statement, _ index: Int) throws(LVSError) -> Int64 {
        let w = try argument(s, index, "a number")
        guard let v = Int64(w), v > -2_147_483_648, v < 2_147_483_648 else {
            throw fail(s, "'\(Shown.word(w))' is not a number from -2147483647 to 2147483647")
        }
        return v
    }

    /// A <TIMER>: seconds with up to 6 decimals, in milliseconds (rounded up to a whole millisecond).
    static func timer(_ s: Statement, minimumMilliseconds: UInt32 = 0) throws(LVSError) -> UInt32 {
        let w = try argument(s, 1, "a time in seconds")
        let parts = w.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        guard let whole = parts.first, !whole.isEmpty || parts.count == 2,
              whole.allSatisfy({ $0.isASCII && $0.isNumber }), whole.count <= 7,
              parts.count == 1 || (1...6).contains(parts[1].count) && parts[1].allSatisfy({ $0.isASCII && $0.isNumber })
        else { throw fail(s, "'\(Shown.word(w))' is not a time in seconds (e.g. 3 or 0.5)") }
        var micros = (UInt64(whole) ?? 0) * 1_000_000
        if parts.count == 2 { micros += UInt64(parts[1] + String(repeating: "0", count: 6 - parts[1].count))! }
        let ms = (micros + 999) / 1000
        guard ms >= minimumMilliseconds, ms <= UInt64(UInt32.max) else {
            throw fail(s, "'\(Shown.word(w))' is out of range")
        }
        return UInt32(ms)
    }

    static func bool(_ s: Statement, default value: Bool = true) throws(LVSError) -> Bool {
        guard s.words.count > 1 else { return value }
        switch s.words[1].lowercased() {
        case "on", "true", "yes": return true
        case "off", "false", "no": return false
        default: throw fail(s, "'\(Shown.word(s.words[1]))' is not one of on, off, true, false, yes, no")
        }
    }

    static func address(_ s: Statement, _ index: Int, what: String = "an IP address") throws(LVSError) -> IPAddress {
        let w = try argument(s, index, what)
        guard let a = IPAddress(w) else { throw fail(s, "'\(Shown.word(w))' is not \(what)") }
        return a
    }

    /// An optional port at `index`: 0 when absent.
    static func port(_ s: Statement, _ index: Int) throws(LVSError) -> UInt16 {
        guard index < s.words.count else { return 0 }
        return UInt16(try unsigned(s, index, 0...65535, what: "a port"))
    }

    /// `lvs_method NAT|DR|TUN [type ipip|gue|gre] [port N] [nocsum|csum|remcsum]`.
    static func forwarding(_ s: Statement) throws(LVSError) -> Forwarding {
        let w = try argument(s, 1, "NAT, DR or TUN")
        guard let m = Forwarding.Method(rawValue: w.lowercased()), w == w.uppercased() else {
            throw fail(s, "'\(Shown.word(w))' is not a forwarding method: NAT, DR or TUN")
        }
        var f = Forwarding(method: m)
        var i = 2
        while i < s.words.count {
            let option = s.words[i]
            guard m == .tun else { throw fail(s, "tunnel options apply to TUN only") }
            switch option {
            case "type":
                let t = try argument(s, i + 1, "a tunnel type: ipip, gue or gre")
                guard ["ipip", "gue", "gre"].contains(t) else { throw fail(s, "'\(Shown.word(t))' is not a tunnel type: ipip, gue or gre") }
                f.tunnelType = t
                i += 2
            case "port":
                f.tunnelPort = UInt16(try unsigned(s, i + 1, 1...65535, what: "a port"))
                i += 2
            case "nocsum", "csum", "remcsum":
                f.checksum = option
                i += 1
            default:
                throw fail(s, "'\(Shown.word(option))' is not a tunnel option: type, port, nocsum, csum or remcsum")
            }
        }
        if (f.tunnelType == "gue") != (f.tunnelPort != nil) { throw fail(s, "gue tunnels need a port, and only they take one") }
        if f.tunnelType ?? "ipip" == "ipip", let c = f.checksum, c != "nocsum" { throw fail(s, "ipip tunnels take no checksum option") }
        if f.tunnelType == "gre", f.checksum == "remcsum" { throw fail(s, "gre tunnels take no remcsum") }
        return f
    }

    /// keepalived's free hex (`Ab12f 3 456`: pairs of digits, a lone digit is a byte): bytes, and whether
    /// X wildcards were used.
    static func hex(_ words: ArraySlice<String>, _ s: Statement) throws(LVSError) -> (bytes: [UInt8], wildcards: Bool) {
        var out: [UInt8] = []
        var wildcards = false
        for w in words {
            var digits = Array(w)
            while !digits.isEmpty {
                let pair = Array(digits.prefix(2))
                digits.removeFirst(pair.count)
                var value: UInt8 = 0
                for d in pair {
                    if d == "x" || d == "X" { wildcards = true; value <<= 4; continue }
                    guard let h = d.hexDigitValue else { throw fail(s, "'\(Shown.word(w))' is not hex") }
                    value = value << 4 | UInt8(h)
                }
                out.append(value)
            }
        }
        return (out, wildcards)
    }

    /// `200-299 400-499 503`: HTTP statuses and ranges.
    static func statuses(_ s: Statement) throws(LVSError) -> [ClosedRange<UInt16>] {
        var out: [ClosedRange<UInt16>] = []
        guard s.words.count > 1 else { throw fail(s, "needs status codes, e.g. 200 or 200-299") }
        for w in s.arguments {
            let parts = w.split(separator: "-", omittingEmptySubsequences: false)
            guard (1...2).contains(parts.count), let a = UInt16(parts[0]), let b = UInt16(parts.last!), (100...599).contains(a),
                  (100...599).contains(b), a <= b else {
                throw fail(s, "'\(Shown.word(w))' is not an HTTP status or range of them (100 to 599)")
            }
            out.append(a...b)
        }
        return out
    }

    /// A keepalived script line (misc_path): blanks separate arguments, single quotes group them.
    static func scriptWords(_ text: String) -> [String] {
        var out: [String] = []
        var word = ""
        var inWord = false
        var quote: Character?
        for c in text {
            if let q = quote {
                if c == q { quote = nil } else { word.append(c) }
                continue
            }
            if c == " " || c == "\t" {
                if inWord { out.append(word) }
                word = ""
                inWord = false
            } else if c == "'" || c == "\"" {
                quote = c
                inWord = true
            } else {
                word.append(c)
                inWord = true
            }
        }
        if inWord { out.append(word) }
        return out
    }

    /// A range of addresses as a virtual server group writes it: `A`, `A-N` (the last part of A
    /// replaced by N: 8 bits for IPv4, 16 for IPv6), `A-B`, `A/LEN`.
    static func addressRange(_ s: Statement) throws(LVSError) -> (IPAddress, IPAddress) {
        let w = s.words[0]
        if let slash = w.firstIndex(of: "/") {
            guard let a = IPAddress(String(w[..<slash])), let len = Int(w[w.index(after: slash)...]) else {
                throw fail(s, "'\(Shown.word(w))' is not an address, range or prefix")
            }
            let bits = a.family == .v4 ? 32 : 128
            guard (0...bits).contains(len) else { throw fail(s, "prefix length \(len) is out of range for \(a.family)") }
            if a.family == .v4 {
                let mask: UInt32 = len == 0 ? 0 : ~UInt32(0) << (32 - len)
                return (IPAddress(v4: a.v4Value & mask), IPAddress(v4: a.v4Value | ~mask))
            }
            func masks(_ n: Int) -> (UInt64, UInt64) {
                let high: UInt64 = n >= 64 ? ~0 : (n == 0 ? 0 : ~UInt64(0) << (64 - n))
                let low: UInt64 = n <= 64 ? 0 : (n == 128 ? ~0 : ~UInt64(0) << (128 - n))
                return (high, low)
            }
            let (h, l) = masks(len)
            return (IPAddress(v6High: a.high & h, low: a.low & l), IPAddress(v6High: a.high | ~h, low: a.low | ~l))
        }
        guard let dash = w.lastIndex(of: "-") else {
            guard let a = IPAddress(w) else { throw fail(s, "'\(Shown.word(w))' is not an IP address") }
            return (a, a)
        }
        let left = String(w[..<dash]), right = String(w[w.index(after: dash)...])
        guard let a = IPAddress(left) else { throw fail(s, "'\(Shown.word(left))' is not an IP address") }
        var b: IPAddress?
        if let full = IPAddress(right) {
            b = full
        } else if a.family == .v4, let n = UInt32(right), n <= 255 {
            b = IPAddress(v4: a.v4Value & 0xffff_ff00 | n)
        } else if a.family == .v6, let n = UInt64(right, radix: 16), n <= 0xffff {
            b = IPAddress(v6High: a.high, low: a.low & ~0xffff | n)
        }
        guard let b, b.family == a.family, !(b < a) else {
            throw fail(s, "'\(Shown.word(w))' is not a range of addresses (e.g. 10.0.0.1-10)")
        }
        return (a, b)
    }
}
