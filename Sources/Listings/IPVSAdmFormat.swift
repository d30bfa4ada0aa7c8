import LVSModel

/// printf-style pieces of ipvsadm's output: padding, addresses, scaled numbers.
package enum IPVSAdmFormat {
    /// "192.168.0.1:80" or "[2001:db8::1]:80", as ipvsadm prints with -n.
    package static func endpoint(_ address: IPAddress, _ port: UInt16) -> String {
        IPVSAdmOutput.text { $0.endpoint(address, port) }
    }

    /// `%-Ns`: pad on the right to N bytes, never cut.
    static func left(_ text: String, _ width: Int) -> String {
        let n = text.utf8.count
        return n >= width ? text : text + String(repeating: " ", count: width - n)
    }

    /// `%Ns`: pad on the left to N bytes, never cut.
    static func right(_ text: String, _ width: Int) -> String {
        let n = text.utf8.count
        return n >= width ? text : String(repeating: " ", count: width - n) + text
    }

    /// Cut to at most N bytes, as ipvsadm does by writing a NUL into its buffer.
    static func cut(_ text: String, _ length: Int) -> String {
        text.utf8.count <= length ? text : String(decoding: Array(text.utf8.prefix(length)), as: UTF8.self)
    }

    /// ipvsadm's `print_largenum`: 9 columns, scaled to K, M, G or T unless --exact.
    package static func largeNumber(_ n: UInt64, exact: Bool) -> String {
        IPVSAdmOutput.text { $0.largeNumber(n, exact: exact) }
    }

    /// `inet_ntoa` of a mask held in host byte order.
    static func dottedQuad(_ mask: UInt32) -> String {
        IPVSAdmOutput.text { $0.dottedQuad(mask) }
    }
}

/// Listing text built as UTF-8 bytes: `-L` and `-S` of 10,000 services are megabytes, which
/// String concatenation builds slowly. When given `flush`, the text goes out in chunks of
/// whole lines instead of accumulating, so memory stays small whatever the table's size.
///
/// Each piece (a number, padding, a word) is stored in one step through a pointer into
/// room kept ahead, rather than appended to an array byte by byte.
struct IPVSAdmOutput {
    /// Room grown ahead of need; the first `count` bytes are the text.
    private var storage: [UInt8]
    private(set) var count = 0
    private let flush: ((String) -> Void)?
    private static let chunkSize = 64 * 1024

    init(flush: ((String) -> Void)? = nil) {
        self.flush = flush
        storage = [UInt8](repeating: 0, count: flush == nil ? 256 : Self.chunkSize + 4096)
    }

    /// The text `write` produces.
    static func text(_ write: (inout IPVSAdmOutput) -> Void) -> String {
        var o = IPVSAdmOutput()
        write(&o)
        return o.text
    }

    /// Everything written (and not yet flushed).
    var text: String { String(decoding: storage[0..<count], as: UTF8.self) }

    /// Lets `body` store at most `limit` bytes at the end; it returns how many it stored.
    private mutating func write(upTo limit: Int, _ body: (UnsafeMutablePointer<UInt8>) -> Int) {
        if count + limit > storage.count { storage.append(contentsOf: repeatElement(0, count: max(limit, storage.count))) }
        let start = count
        count += storage.withUnsafeMutableBufferPointer { body($0.baseAddress! + start) }
    }

    /// Ends a line; passes the text on once a chunk is full.
    mutating func newline() {
        append(byte: UInt8(ascii: "\n"))
        if let flush, count >= Self.chunkSize {
            flush(text)
            count = 0
        }
    }

    /// Passes on what is left.
    mutating func finish() {
        if let flush, count > 0 {
            flush(text)
            count = 0
        }
    }

    /// Forgets what was written, keeping the room.
    mutating func removeAll() {
        count = 0
    }

    /// What `other` holds.
    mutating func append(_ other: IPVSAdmOutput) {
        let n = other.count
        other.storage.withUnsafeBufferPointer { from in
            write(upTo: n) { p in
                p.initialize(from: from.baseAddress!, count: n)
                return n
            }
        }
    }

    mutating func append(byte b: UInt8) {
        write(upTo: 1) { p in
            p.initialize(to: b)
            return 1
        }
    }

    mutating func append(string s: String) {
        var s = s
        s.withUTF8 { utf8 in
            write(upTo: utf8.count) { p in
                p.initialize(from: utf8.baseAddress!, count: utf8.count)
                return utf8.count
            }
        }
    }

    mutating func append(_ s: StaticString) {
        s.withUTF8Buffer { utf8 in
            write(upTo: utf8.count) { p in
                p.initialize(from: utf8.baseAddress!, count: utf8.count)
                return utf8.count
            }
        }
    }

    mutating func spaces(_ n: Int) {
        guard n > 0 else { return }
        write(upTo: n) { p in
            p.initialize(repeating: UInt8(ascii: " "), count: n)
            return n
        }
    }

    /// `%-Ns` of what `write` writes: pads it on the right to `width` bytes, never cuts.
    mutating func left(_ width: Int, _ write: (inout IPVSAdmOutput) -> Void) {
        let start = count
        write(&self)
        spaces(width - (count - start))
    }

    /// `%-Ns`.
    mutating func left(_ text: String, _ width: Int) {
        left(width) { $0.append(string: text) }
    }

    /// Cuts what was written since `start` to `length` bytes, as ipvsadm cuts with a NUL.
    mutating func cut(from start: Int, to length: Int) {
        if count - start > length { count = start + length }
    }

    /// The decimal digits of `v` (`%u`, `%llu`).
    mutating func decimal(_ v: UInt64) {
        write(upTo: 20) { Self.digits(v, $0) }
    }

    /// Writes the decimal digits of `v` at `p`; returns how many.
    @inline(__always) private static func digits(_ v: UInt64, _ p: UnsafeMutablePointer<UInt8>) -> Int {
        let n = digitCount(v)
        var rest = v
        var i = n - 1
        while i >= 0 {
            p[i] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: rest % 10)
            rest /= 10
            i -= 1
        }
        return n
    }

    /// Writes the decimal digits of an address byte at `p`; returns how many. A listing writes
    /// 50,000 addresses: one step per byte of the address, not a general number each.
    @inline(__always) private static func octet(_ v: UInt32, _ p: UnsafeMutablePointer<UInt8>) -> Int {
        let zero = UInt8(ascii: "0")
        if v >= 100 {
            p[0] = zero &+ UInt8(truncatingIfNeeded: v / 100)
            p[1] = zero &+ UInt8(truncatingIfNeeded: v / 10 % 10)
            p[2] = zero &+ UInt8(truncatingIfNeeded: v % 10)
            return 3
        }
        if v >= 10 {
            p[0] = zero &+ UInt8(truncatingIfNeeded: v / 10)
            p[1] = zero &+ UInt8(truncatingIfNeeded: v % 10)
            return 2
        }
        p[0] = zero &+ UInt8(truncatingIfNeeded: v)
        return 1
    }

    /// `inet_ntoa` of `v` at `p`; returns how many bytes (at most 15).
    @inline(__always) private static func dottedQuad(_ v: UInt32, _ p: UnsafeMutablePointer<UInt8>) -> Int {
        var n = octet(v >> 24, p)
        p[n] = UInt8(ascii: ".")
        n += 1
        n += octet(v >> 16 & 0xff, p + n)
        p[n] = UInt8(ascii: ".")
        n += 1
        n += octet(v >> 8 & 0xff, p + n)
        p[n] = UInt8(ascii: ".")
        n += 1
        return n + octet(v & 0xff, p + n)
    }

    /// `%d`, `%lld`.
    mutating func decimal(_ v: Int64) {
        if v < 0 { append(byte: UInt8(ascii: "-")) }
        decimal(v.magnitude)
    }

    static func digitCount(_ v: UInt64) -> Int {
        var n = 1, limit: UInt64 = 10
        while n < 20 && v >= limit {
            n += 1
            limit = limit &* 10
        }
        return n
    }

    /// `%Nu`: right-aligned in `width` columns.
    mutating func right(_ v: UInt64, _ width: Int) {
        spaces(width - Self.digitCount(v))
        decimal(v)
    }

    /// " %-Nu", in one step: the -L columns of every real server.
    mutating func column(_ v: UInt64, _ width: Int) {
        write(upTo: 1 + max(20, width)) { p in
            p[0] = UInt8(ascii: " ")
            let n = Self.digits(v, p + 1)
            if n < width { (p + 1 + n).initialize(repeating: UInt8(ascii: " "), count: width - n) }
            return 1 + max(n, width)
        }
    }

    /// `%-Nu`.
    mutating func left(_ v: UInt64, _ width: Int) {
        decimal(v)
        spaces(width - Self.digitCount(v))
    }

    /// ipvsadm's `print_largenum`: 9 columns, scaled to K, M, G or T unless --exact.
    mutating func largeNumber(_ n: UInt64, exact: Bool) {
        if exact {
            let count = Self.digitCount(n)
            right(n, count <= 8 ? 9 : count + 1)
            return
        }
        if n < 100_000_000 { return right(n, 9) }
        let (value, unit): (UInt64, UInt8) =
            n < 1_000_000_000 ? (n / 1000, UInt8(ascii: "K"))
            : n < 100_000_000_000 ? (n / 1_000_000, UInt8(ascii: "M"))
            : n < 100_000_000_000_000 ? (n / 1_000_000_000, UInt8(ascii: "G"))
            : (n / 1_000_000_000_000, UInt8(ascii: "T"))
        right(value, 8)
        append(byte: unit)
    }

    /// `inet_ntoa` of a value held in host byte order.
    mutating func dottedQuad(_ v: UInt32) {
        write(upTo: 15) { Self.dottedQuad(v, $0) }
    }

    /// "192.168.0.1:80" or "[2001:db8::1]:80", as ipvsadm prints with -n.
    mutating func endpoint(_ address: IPAddress, _ port: UInt16) {
        if address.family == .v4 {
            // In one step: "255.255.255.255:65535" is 21 bytes.
            let v = address.v4Value
            write(upTo: 21) { p in
                let n = Self.dottedQuad(v, p)
                p[n] = UInt8(ascii: ":")
                return n + 1 + Self.digits(UInt64(port), p + n + 1)
            }
            return
        }
        append(byte: UInt8(ascii: "["))
        append(string: address.description)
        append(byte: UInt8(ascii: "]"))
        append(byte: UInt8(ascii: ":"))
        decimal(UInt64(port))
    }
}
