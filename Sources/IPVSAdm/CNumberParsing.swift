import LVSModel

/// The C library's number and IPv4 parsers, reproduced so that lvsh accepts
/// exactly the words ipvsadm accepts (" 80", "+80", "10.1", "0x0a000001").
///
/// They read UTF-8 bytes in place, without copying a word into an array first:
/// `-R` runs them a few times for each of its (up to 50,000) input lines.
package enum CNumberParsing {
    package typealias Bytes = UnsafeBufferPointer<UInt8>

    private static func isSpace(_ c: UInt8) -> Bool { c == 0x20 || (c >= 0x09 && c <= 0x0d) }
    private static func isDigit(_ c: UInt8) -> Bool { c >= 0x30 && c <= 0x39 }

    /// Runs `body` on the text's UTF-8 bytes, in place when the string is stored contiguously.
    package static func withBytes<R>(_ text: some StringProtocol, _ body: (Bytes) -> R) -> R {
        if let r = text.utf8.withContiguousStorageIfAvailable(body) { return r }
        return Array(text.utf8).withUnsafeBufferPointer(body)
    }

    /// ipvsadm's `string_to_number`: strtol base 10 over the whole word, within min...max.
    package static func number(_ text: String, in range: ClosedRange<Int64>) -> Int64? {
        withBytes(text) { number($0, in: range) }
    }

    static func number(_ b: Bytes, in range: ClosedRange<Int64>) -> Int64? {
        var i = 0
        while i < b.count && isSpace(b[i]) { i += 1 }
        var negative = false
        if i < b.count && (b[i] == 0x2b || b[i] == 0x2d) {
            negative = b[i] == 0x2d
            i += 1
        }
        let start = i
        var value: Int64 = 0
        while i < b.count && isDigit(b[i]) {
            // strtol saturates with ERANGE; anything that large is out of every range here.
            let (m, o1) = value.multipliedReportingOverflow(by: 10)
            let (s, o2) = m.addingReportingOverflow(Int64(b[i] - 0x30))
            if o1 || o2 { return nil }
            value = s
            i += 1
        }
        guard i > start, i == b.count else { return nil }
        if negative { value = -value }
        return range.contains(value) ? value : nil
    }

    /// C `atoi`: leading blanks, a sign, then as many digits as there are; 0 if none.
    package static func atoi(_ text: String) -> Int64 {
        withBytes(text) { b in
            var i = 0
            while i < b.count && isSpace(b[i]) { i += 1 }
            var negative = false
            if i < b.count && (b[i] == 0x2b || b[i] == 0x2d) {
                negative = b[i] == 0x2d
                i += 1
            }
            var value: Int64 = 0
            while i < b.count && isDigit(b[i]) && value < Int64(UInt32.max) * 16 {
                value = value * 10 + Int64(b[i] - 0x30)
                i += 1
            }
            return negative ? -value : value
        }
    }

    /// C `strtoul(s, &end, 0)` from a digit: hex after 0x, octal after 0, else decimal.
    /// Returns the value (nil on overflow) and the index after the digits.
    private static func strtoul0(_ b: Bytes, from start: Int) -> (UInt64?, Int) {
        var i = start
        var base: UInt64 = 10
        if b[i] == 0x30 {
            if i + 2 < b.count, b[i + 1] | 0x20 == 0x78, hexValue(b[i + 2]) != nil {
                base = 16
                i += 2
            } else {
                base = 8
            }
        }
        var value: UInt64? = 0
        while i < b.count {
            let d: UInt64
            if base == 16, let h = hexValue(b[i]) { d = UInt64(h) }
            else if isDigit(b[i]) && UInt64(b[i] - 0x30) < base { d = UInt64(b[i] - 0x30) }
            else { break }
            if let v = value {
                let (m, o1) = v.multipliedReportingOverflow(by: base)
                let (s, o2) = m.addingReportingOverflow(d)
                value = (o1 || o2) ? nil : s
            }
            i += 1
        }
        return (value, i)
    }

    private static func hexValue(_ c: UInt8) -> UInt8? {
        switch c {
        case 0x30...0x39: c - 0x30
        case 0x61...0x66: c - 0x61 + 10
        case 0x41...0x46: c - 0x41 + 10
        default: nil
        }
    }

    /// glibc `inet_aton`: one to four parts in C notation, the last filling the
    /// remaining bytes ("10.1" is 10.0.0.1); trailing blanks end the address.
    /// Returns the address in host byte order.
    package static func inetAton(_ text: String) -> UInt32? {
        withBytes(text) { inetAton($0) }
    }

    static func inetAton(_ b: Bytes) -> UInt32? {
        // The dotted parts before the last one: at most three, each a byte.
        var parts: UInt32 = 0
        var partCount = 0
        var i = 0
        var last: UInt64 = 0
        while true {
            guard i < b.count, isDigit(b[i]) else { return nil }
            let (value, end) = strtoul0(b, from: i)
            guard let value, value <= 0xffff_ffff else { return nil }
            last = value
            i = end
            if i < b.count && b[i] == 0x2e {
                guard partCount < 3, value <= 0xff else { return nil }
                parts |= UInt32(value) << (24 - 8 * UInt32(partCount))
                partCount += 1
                i += 1
            } else {
                break
            }
        }
        if i < b.count && !isSpace(b[i]) { return nil }
        // The last part fills the bytes the dotted ones left: 32, 24, 16 or 8 bits.
        guard last <= UInt64(UInt32.max) >> (8 * partCount) else { return nil }
        return parts | UInt32(last)
    }

    /// glibc `inet_pton(AF_INET6, ...)`: only hex digits, ':' and a dotted IPv4 tail.
    static func inetPton6(_ text: String) -> IPAddress? {
        guard text.contains(":"),
              text.utf8.allSatisfy({ hexValue($0) != nil || $0 == 0x3a || $0 == 0x2e }) else { return nil }
        return IPAddress(text)
    }

    /// ipvsadm's `str_is_digit`: true for "" and for all-digit words.
    static func isAllDigits(_ text: String) -> Bool { text.utf8.allSatisfy(isDigit) }

    static func isAllDigits(_ b: Bytes) -> Bool { b.allSatisfy(isDigit) }
}
