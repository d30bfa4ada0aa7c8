import LVSModel

/// The grammar of one command, FRR-style: keywords, typed values, optional parts, choices and
/// options in any order. Parsing, `?` help, TAB completion and the reference all read it.
public indirect enum Syntax: Sendable {
    /// A keyword; unique prefixes match ("sh" for "show").
    case word(String, help: String)
    /// A value of a kind, bound under a name.
    case value(String, ValueKind, help: String)
    case sequence([Syntax])
    case optional(Syntax)
    /// Exactly one of the alternatives.
    case choice([Syntax])
    /// One or more repetitions.
    case repeated(Syntax)
    /// Each part at most once, in any order (the options of a command).
    case anyOrder([Syntax])
    /// Every remaining word, untouched (`ipvsadm ARG...`).
    case rest(String, help: String)
    /// One of several keywords, bound in order under a name (`tcp 80 udp 53` binds proto = [tcp, udp]).
    case oneOf(String, [(word: String, help: String)])

    /// A keyword followed by a value bound under the keyword's name: `weight N`.
    public static func option(_ keyword: String, _ kind: ValueKind, help: String, name: String? = nil) -> Syntax {
        .sequence([.word(keyword, help: help), .value(name ?? keyword, kind, help: help)])
    }

    /// A keyword whose presence is bound under its own name: `one-packet`.
    public static func flag(_ keyword: String, help: String) -> Syntax { .word(keyword, help: help) }
}

/// What a value position accepts, how it is shown in help, and where TAB finds candidates.
public enum ValueKind: Sendable, Hashable {
    case name               // a new name (group names)
    case groupName          // an existing group (completed from the kernel)
    case address            // IPv4 or IPv6
    case addressList        // ADDR[,ADDR...] or any
    case endpoint           // ADDR:PORT or [V6]:PORT
    case realServer         // ADDR[:PORT] or [V6][:PORT] (completed from the service's real servers)
    case ports              // 80,443,8000-8100
    case number(ClosedRange<UInt64>)
    case mark               // decimal or 0x-hex, 1..2^32-1
    case scheduler          // completed from the schedulers the kernel can load
    case interface          // a network interface (completed from /sys/class/net)
    case sysctlName         // completed from the sysctls lvsh knows
    case text               // anything (sysctl values, file names)
    case file               // a file name
    case regex              // `| include REGEX`
    case seconds            // 2, 0.5: seconds to the millisecond, 0.01 to 86400 (check intervals)
    case checkName          // a defined check (completed from the checks)
    case hex                // bytes as hex digits: 0a1b2c (UDP check payloads)
    case statuses           // HTTP status codes and ranges: 200-299,302

    /// The metavariable shown in help and the reference.
    public var metavariable: String {
        switch self {
        case .name: "NAME"
        case .groupName: "GROUP"
        case .address: "ADDRESS"
        case .addressList: "ADDRESS[,ADDRESS...]|any"
        case .endpoint: "ADDRESS:PORT"
        case .realServer: "ADDRESS[:PORT]"
        case .ports: "PORTS"
        case .number(let r): "<\(r.lowerBound)-\(r.upperBound)>"
        case .mark: "MARK"
        case .scheduler: "SCHEDULER"
        case .interface: "INTERFACE"
        case .sysctlName: "SYSCTL"
        case .text: "VALUE"
        case .file: "FILE"
        case .regex: "REGEX"
        case .seconds: "SECONDS"
        case .checkName: "CHECK"
        case .hex: "HEX"
        case .statuses: "STATUS[,STATUS...]"
        }
    }

    private static func isASCIINameByte(_ b: UInt8) -> Bool {
        (b >= 0x61 && b <= 0x7a) || (b >= 0x41 && b <= 0x5a) || (b >= 0x30 && b <= 0x39) || b == 0x5f
    }

    /// The word as a value of this kind, or nil when it is not one: the one place a word becomes a
    /// typed value (the walker binds it; handlers read it back typed, never parsing the word again).
    public func value(of word: String) -> Value? {
        switch self {
        case .name, .groupName, .checkName:
            return PortGroupRules.isValidName(word) ? .text(word) : nil
        case .address:
            return IPAddress(word).flatMap { $0.isV4Mapped ? nil : .address($0) }
        case .addressList:
            if word == "any" { return .addresses(nil) }
            // One pass over the bytes: a group may list 100,000 VIPs in one word, where the generic
            // split over a UTF8View cost more than parsing the addresses.
            var list: [IPAddress] = []
            var word = word
            let parsed = word.withUTF8 { bytes -> Bool in
                var start = 0
                for i in 0...bytes.count where i == bytes.count || bytes[i] == UInt8(ascii: ",") {
                    guard let a = IPAddress.parse(UnsafeBufferPointer(rebasing: bytes[start..<i])), !a.isV4Mapped else { return false }
                    list.append(a)
                    start = i + 1
                }
                return true
            }
            return parsed ? .addresses(list) : nil
        case .endpoint, .realServer:
            guard let (a, port) = Endpoint.parse(word, portRequired: self == .endpoint), !a.isV4Mapped else { return nil }
            return .endpoint(a, port)
        case .ports:
            return (try? PortList.parse(word)).map(Value.ports)
        case .number(let r):
            guard !Self.hasSign(word), let n = UInt64(word), r.contains(n) else { return nil }
            return .number(n)
        case .mark:
            return Mark.parse(word).map(Value.mark)
        case .scheduler:
            // ASCII (every scheduler the kernel has) without Unicode's letter tables: each service line names one.
            if !word.isEmpty, word.utf8.count < 16, word.utf8.allSatisfy(Self.isASCIINameByte) { return .text(word) }
            return !word.isEmpty && word.count < 16 && word.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" } ? .text(word) : nil
        case .interface:
            return !word.isEmpty && word.utf8.count < 16 && !word.contains("/") ? .text(word) : nil
        case .sysctlName, .text, .file, .regex:
            return .text(word)
        case .seconds:
            return Seconds.milliseconds(word).map { .number(UInt64($0)) }
        case .hex:
            return Hex.bytes(word).map(Value.bytes)
        case .statuses:
            return (try? StatusList.parse(word)).map(Value.statuses)
        }
    }

    /// Whether a word is a value of this kind: `problem(with:)` without building the message.
    public func accepts(_ word: String) -> Bool { value(of: word) != nil }

    /// Why a word is not a value of this kind, or nil when it is.
    public func problem(with word: String) -> String? {
        guard !accepts(word) else { return nil }
        // The word as messages quote it: escaped and cut (it may hold control bytes, or be huge).
        let shown = Shown.word(word)
        if let (text, mapped) = Self.mappedAddress(in: word, kind: self) {
            return "'\(Shown.word(text))' is an IPv4-mapped IPv6 address: write the IPv4 address \(mapped.unmappedV4!) (lvsh keeps IPv4 and IPv6 apart, as IPVS does)"
        }
        switch self {
        case .name:
            return "'\(shown)' is not a valid name: use letters, digits, '-', '_' or '.', starting with a letter"
        case .groupName:
            return "'\(shown)' is not a group name"
        case .checkName:
            return "'\(shown)' is not a check name"
        case .seconds:
            return "'\(shown)' is not a time in seconds from 0.01 to 86400 (e.g. 2 or 0.5)"
        case .hex:
            return "'\(shown)' is not bytes in hex: give pairs of hex digits, e.g. 0a1b2c (at most 1400 bytes)"
        case .statuses:
            do {
                _ = try StatusList.parse(word)
                return nil
            } catch {
                return error.message
            }
        case .address:
            return "'\(shown)' is not an IPv4 or IPv6 address"
        case .addressList:
            let bad = word.split(separator: ",", omittingEmptySubsequences: false).first { IPAddress(String($0)) == nil } ?? Substring(word)
            return "'\(Shown.word(bad))' is not an IPv4 or IPv6 address (give ADDRESS[,ADDRESS...] or any)"
        case .endpoint:
            return "'\(shown)' is not ADDRESS:PORT (IPv6 as [ADDRESS]:PORT)"
        case .realServer:
            return "'\(shown)' is not ADDRESS[:PORT] (IPv6 as [ADDRESS]:PORT)"
        case .ports:
            do {
                _ = try PortList.parse(word)
                return nil
            } catch {
                return error.message
            }
        case .number(let r):
            if Self.hasSign(word) { return "'\(shown)' has a sign: write the number without '+' or '-' (\(r.lowerBound) to \(r.upperBound))" }
            return "'\(shown)' is not a number from \(r.lowerBound) to \(r.upperBound)"
        case .mark:
            if Self.hasSign(word) || Self.hasSign(word.dropFirst(2)) { return "'\(shown)' has a sign: write the mark without '+' or '-' (1 to 4294967295, decimal or 0x-hex)" }
            return "'\(shown)' is not a mark: give 1 to 4294967295, decimal or 0x-hex"
        case .scheduler:
            return "'\(shown)' is not a scheduler name"
        case .interface:
            return "'\(shown)' is not an interface name"
        case .sysctlName, .text, .file, .regex:
            return nil
        }
    }
}

extension ValueKind {
    /// Whether a number is written with a sign, which Swift's integer parsing takes ("+80") and lvsh's
    /// language does not.
    static func hasSign<S: StringProtocol>(_ word: S) -> Bool {
        word.first == "+" || word.first == "-"
    }

    /// The IPv4-mapped address (::ffff:a.b.c.d) a word of an address kind gives, if it gives one, with
    /// the text that gives it (one element of a list).
    static func mappedAddress(in word: String, kind: ValueKind) -> (String, IPAddress)? {
        switch kind {
        case .address:
            return IPAddress(word).flatMap { $0.isV4Mapped ? (word, $0) : nil }
        case .addressList:
            for part in word.split(separator: ",") {
                if let a = IPAddress(String(part)), a.isV4Mapped { return (String(part), a) }
            }
            return nil
        case .endpoint, .realServer:
            return Endpoint.parse(word, portRequired: kind == .endpoint).flatMap { $0.0.isV4Mapped ? (word, $0.0) : nil }
        default:
            return nil
        }
    }
}

/// An address with an optional port, in ipvsadm's notation.
public enum Endpoint {
    public static func parse(_ word: String, portRequired: Bool) -> (IPAddress, UInt16?)? {
        var word = word
        return word.withUTF8 { parse(bytes: $0, portRequired: portRequired) }
    }

    /// Reads bytes: every real server of a 50,000-line file passes through here twice.
    static func parse(bytes b: UnsafeBufferPointer<UInt8>, portRequired: Bool) -> (IPAddress, UInt16?)? {
        func port(_ from: Int) -> UInt16? {
            guard from < b.count, b.count - from <= 5 else { return nil }
            var v: UInt32 = 0
            for i in from..<b.count {
                guard b[i] >= UInt8(ascii: "0"), b[i] <= UInt8(ascii: "9") else { return nil }
                v = v * 10 + UInt32(b[i] - UInt8(ascii: "0"))
            }
            return v <= 65535 ? UInt16(v) : nil
        }
        if b.first == UInt8(ascii: "[") {
            guard let close = b.firstIndex(of: UInt8(ascii: "]")),
                  let a = IPAddress.parse(UnsafeBufferPointer(rebasing: b[1..<close])), a.family == .v6 else { return nil }
            if close == b.count - 1 { return portRequired ? nil : (a, nil) }
            guard b[close + 1] == UInt8(ascii: ":"), let p = port(close + 2) else { return nil }
            return (a, p)
        }
        guard let colon = b.lastIndex(of: UInt8(ascii: ":")) else {
            // No colon: a bare IPv4 address.
            guard !portRequired, let a = IPAddress.parse(b) else { return nil }
            return (a, nil)
        }
        if let a = IPAddress.parse(UnsafeBufferPointer(rebasing: b[..<colon])), a.family == .v4, let p = port(colon + 1) {
            return (a, p)
        }
        // A bare IPv6 address has colons of its own, so it never carries a port.
        guard !portRequired, let a = IPAddress.parse(b), a.family == .v6 else { return nil }
        return (a, nil)
    }
}

/// A value word as its kind made it (see ValueKind.value(of:)).
public enum Value: Hashable, Sendable {
    /// Names, schedulers, interfaces, sysctl names, file names, free text: the word itself.
    case text(String)
    case address(IPAddress)
    /// An address list; nil for `any`.
    case addresses([IPAddress]?)
    /// ADDRESS:PORT, or ADDRESS[:PORT] for a real server (nil: the service's port).
    case endpoint(IPAddress, UInt16?)
    case ports([ClosedRange<UInt16>])
    /// Numbers; times in milliseconds (`.seconds`).
    case number(UInt64)
    case mark(UInt32)
    case bytes([UInt8])
    /// HTTP status codes and ranges of them.
    case statuses([ClosedRange<UInt16>])
}

/// Times in seconds, to the millisecond: `2`, `0.5`, `1.25`.
public enum Seconds {
    public static let range: ClosedRange<UInt32> = 10...86_400_000

    /// The time in milliseconds, or nil when the word is not a time lvsh takes.
    public static func milliseconds(_ word: String) -> UInt32? {
        let parts = word.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        guard let whole = parts.first, !whole.isEmpty, whole.count <= 5, whole.allSatisfy(\.isASCIIDigit),
              let w = UInt32(whole) else { return nil }
        var ms = w * 1000
        if parts.count == 2 {
            let fraction = parts[1]
            guard (1...3).contains(fraction.count), fraction.allSatisfy(\.isASCIIDigit) else { return nil }
            ms += UInt32(fraction.padding(toLength: 3))!
        }
        return range.contains(ms) ? ms : nil
    }

    /// `1500` → "1.5": the shortest text `milliseconds` reads back.
    public static func text(_ ms: UInt32) -> String { SecondsText.text(ms) }
}

/// Bytes written as hex digits.
public enum Hex {
    public static func bytes(_ word: String) -> [UInt8]? {
        let digits = Array(word.utf8)
        guard !digits.isEmpty, digits.count % 2 == 0, digits.count <= 2800 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(digits.count / 2)
        var i = 0
        while i < digits.count {
            guard let hi = nibble(digits[i]), let lo = nibble(digits[i + 1]) else { return nil }
            out.append(hi << 4 | lo)
            i += 2
        }
        return out
    }

    public static func text(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        for b in bytes { out += [digits[Int(b >> 4)], digits[Int(b & 15)]] }
        return String(decoding: out, as: UTF8.self)
    }

    private static func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}

/// HTTP status lists: `200-299,302`.
public enum StatusList {
    public static func parse(_ word: String) throws(LVSError) -> [ClosedRange<UInt16>] {
        var out: [ClosedRange<UInt16>] = []
        for part in word.split(separator: ",", omittingEmptySubsequences: false) {
            let bounds = part.split(separator: "-", omittingEmptySubsequences: false)
            guard (1...2).contains(bounds.count), bounds.allSatisfy({ !$0.isEmpty && $0.allSatisfy(\.isASCIIDigit) }),
                  let lo = UInt16(bounds[0]), let hi = UInt16(bounds[bounds.count - 1]) else {
                throw .badInput("'\(Shown.word(part))' is not an HTTP status or a range LOW-HIGH (e.g. 200-299,302)")
            }
            guard (100...599).contains(lo), (100...599).contains(hi) else {
                throw .badInput("'\(Shown.word(part))': HTTP statuses are 100 to 599")
            }
            guard lo <= hi else { throw .badInput("range \(part) runs backwards: write \(hi)-\(lo)") }
            out.append(lo...hi)
        }
        return out
    }

    public static func text(_ ranges: [ClosedRange<UInt16>]) -> String {
        ranges.map { $0.lowerBound == $0.upperBound ? "\($0.lowerBound)" : "\($0.lowerBound)-\($0.upperBound)" }
            .joined(separator: ",")
    }
}

extension Character {
    var isASCIIDigit: Bool { isASCII && isNumber }
}

extension Substring {
    /// Right-pads with zeros: the fraction "5" is 500 milliseconds.
    func padding(toLength n: Int) -> String { String(self) + String(repeating: "0", count: Swift.max(0, n - count)) }
}

/// Port lists: `80,443,8000-8100`.
public enum PortList {
    public static func parse(_ word: String) throws(LVSError) -> [ClosedRange<UInt16>] {
        var out: [ClosedRange<UInt16>] = []
        for part in word.split(separator: ",", omittingEmptySubsequences: false) {
            guard !part.contains("+") else {
                throw .badInput("'\(Shown.word(part))' has a sign: write ports without '+' (ports are 1 to 65535)")
            }
            let bounds = part.split(separator: "-", omittingEmptySubsequences: false)
            guard (1...2).contains(bounds.count), let lo = UInt16(bounds[0]), let hi = UInt16(bounds[bounds.count - 1]) else {
                throw .badInput("'\(Shown.word(part))' is not a port or a range LOW-HIGH (ports are 1 to 65535)")
            }
            guard lo >= 1 else { throw .badInput("port 0 cannot be matched: ports are 1 to 65535") }
            guard lo <= hi else { throw .badInput("range \(part) runs backwards: write \(hi)-\(lo)") }
            out.append(lo...hi)
        }
        return out
    }
}

/// Firewall marks: decimal or 0x-hex, never 0.
public enum Mark {
    public static func parse(_ word: String) -> UInt32? {
        let hex = word.lowercased().hasPrefix("0x")
        guard !ValueKind.hasSign(hex ? word.dropFirst(2) : word[...]) else { return nil }
        let v: UInt32? = hex ? UInt32(word.dropFirst(2), radix: 16) : UInt32(word)
        guard let v, v != 0 else { return nil }
        return v
    }
}
