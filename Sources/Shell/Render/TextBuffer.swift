import LVSModel

/// Output made in one pass as UTF-8 bytes: `show services --json` and `show running-config` of
/// 10,000 services are megabytes, and building them as a tree of `JSON` values or by String
/// concatenation took seconds. Renderers append straight into `bytes`; the text is made once, at the end.
///
/// A big document moves its bytes into the result String every 64 KiB (`checkpoint()` at the end of
/// each item), so that the bytes and the String they become are never both whole in memory: under
/// user-mode-linux a page fault costs tens of microseconds, and 15 MB are 3,700 pages.
struct TextBuffer {
    /// Room grown ahead of need (zeros); the first `count` bytes are the text not yet spilled.
    private var storage: [UInt8]
    private(set) var count = 0
    /// The text moved out of `storage` by `checkpoint()`, with room reserved for the whole document.
    private var spilled = ""
    private static let chunk = 64 * 1024

    init(capacity: Int = 256) {
        if capacity > 2 * Self.chunk {
            spilled.reserveCapacity(capacity)
            storage = [UInt8](repeating: 0, count: Self.chunk + 4096)
        } else {
            storage = [UInt8](repeating: 0, count: max(capacity, 64))
        }
    }

    /// The text of what `write` appends.
    static func text(capacity: Int = 256, _ write: (inout TextBuffer) -> Void) -> String {
        var b = TextBuffer(capacity: capacity)
        write(&b)
        return b.finish()
    }

    /// Where a chunk may end (between items, never inside a UTF-8 sequence): moves the bytes into
    /// the text once they fill a chunk.
    @inline(__always)
    mutating func checkpoint() {
        if count >= Self.chunk { spill() }
    }

    private mutating func spill() {
        storage.withUnsafeBufferPointer { spilled.append(String(decoding: $0[..<count], as: UTF8.self)) }
        count = 0
    }

    /// Everything written, as one String; the buffer is left empty.
    mutating func finish() -> String {
        if spilled.isEmpty {
            let text = storage.withUnsafeBufferPointer { String(decoding: $0[..<count], as: UTF8.self) }
            count = 0
            return text
        }
        spill()
        let text = spilled
        spilled = ""
        return text
    }

    /// Forgets what was written (a scratch buffer reused for small pieces).
    mutating func removeAll() {
        count = 0
        spilled = ""
    }

    /// `{"KEY":[ITEM,ITEM,...]}` and a newline: the shape of every `show ... --json` document over a
    /// list. Each item is complete when `item` returns, so the buffer may spill there.
    static func jsonDocument<S: Sequence>(key: StaticString, _ items: S, capacity: Int = 256,
                                          _ item: (S.Element, inout TextBuffer) -> Void) -> String {
        text(capacity: capacity) { o in
            o.byte(UInt8(ascii: "{"))
            o.byte(UInt8(ascii: "\""))
            o.append(key)
            o.append("\":[")
            for (i, element) in items.enumerated() {
                if i > 0 { o.byte(UInt8(ascii: ",")) }
                item(element, &o)
                o.checkpoint()
            }
            o.append("]}\n")
        }
    }

    /// Lets `body` store at most `limit` bytes at the end; it returns how many it stored.
    @inline(__always)
    private mutating func write(upTo limit: Int, _ body: (UnsafeMutablePointer<UInt8>) -> Int) {
        if count + limit > storage.count { grow(limit) }
        let start = count
        count += storage.withUnsafeMutableBufferPointer { body($0.baseAddress! + start) }
    }

    private mutating func grow(_ limit: Int) {
        storage.append(contentsOf: repeatElement(0, count: max(limit, storage.count)))
    }

    @inline(__always)
    mutating func byte(_ b: UInt8) {
        write(upTo: 1) { p in
            p.initialize(to: b)
            return 1
        }
    }

    mutating func append(_ bytes: UnsafeBufferPointer<UInt8>) {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        write(upTo: bytes.count) { p in
            p.update(from: base, count: bytes.count)
            return bytes.count
        }
    }

    mutating func append(_ s: StaticString) {
        s.withUTF8Buffer { append($0) }
    }

    /// (String literals take the StaticString overload.)
    @_disfavoredOverload
    mutating func append(_ s: String) {
        var s = s
        s.withUTF8 { append($0) }
    }

    /// A small buffer's bytes (one that never reached a checkpoint's chunk).
    mutating func append(_ other: TextBuffer) {
        assert(other.spilled.isEmpty)
        other.storage.withUnsafeBufferPointer { append(UnsafeBufferPointer(rebasing: $0[..<other.count])) }
    }

    /// The decimal digits of `v`, as `String(v)` writes them.
    mutating func decimal(_ v: UInt64) {
        // Counters and thresholds are mostly 0.
        if v < 10 { return byte(UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: v)) }
        var n = 2, limit: UInt64 = 100
        while n < 20 && v >= limit {
            n += 1
            limit = limit &* 10
        }
        write(upTo: n) { p in
            var rest = v
            for i in stride(from: n - 1, through: 0, by: -1) {
                let (q, r) = rest.quotientAndRemainder(dividingBy: 10)
                p[i] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: r)
                rest = q
            }
            return n
        }
    }

    /// `String(v)`.
    mutating func decimal(_ v: Int64) {
        if v < 0 { byte(UInt8(ascii: "-")) }
        decimal(v.magnitude)
    }

    /// `String(v)` of any integer.
    mutating func decimal<T: BinaryInteger>(_ v: T) {
        if T.isSigned { decimal(Int64(v)) } else { decimal(UInt64(v)) }
    }

    /// "a.b.c.d" of a value held in host byte order.
    mutating func dottedQuad(_ v: UInt32) {
        decimal(UInt64(v >> 24))
        byte(UInt8(ascii: "."))
        decimal(UInt64(v >> 16 & 0xff))
        byte(UInt8(ascii: "."))
        decimal(UInt64(v >> 8 & 0xff))
        byte(UInt8(ascii: "."))
        decimal(UInt64(v & 0xff))
    }

    /// `address.description`, without a String for IPv4.
    mutating func address(_ a: IPAddress) {
        if a.family == .v4 { dottedQuad(a.v4Value) } else { append(a.description) }
    }
}

/// JSON pieces, written as `JSON.text` writes them (compact, keys in the order given).
extension TextBuffer {
    /// A JSON string: `"`, `\`, newline, return and tab escaped by name, other controls below
    /// U+0020 as `\u00xx` (lower-case hex); everything else as it is.
    mutating func jsonString(_ s: String) {
        byte(UInt8(ascii: "\""))
        var s = s
        s.withUTF8 { u in
            // Only ASCII bytes are escaped, so the text is scanned as bytes: no byte of a multi-byte
            // UTF-8 sequence is below 0x80.
            var start = 0
            for i in 0..<u.count {
                let c = u[i]
                guard c < 0x20 || c == UInt8(ascii: "\"") || c == UInt8(ascii: "\\") else { continue }
                append(UnsafeBufferPointer(rebasing: u[start..<i]))
                start = i + 1
                switch c {
                case UInt8(ascii: "\""): append("\\\"")
                case UInt8(ascii: "\\"): append("\\\\")
                case UInt8(ascii: "\n"): append("\\n")
                case UInt8(ascii: "\r"): append("\\r")
                case UInt8(ascii: "\t"): append("\\t")
                default:
                    let hex: StaticString = "0123456789abcdef"
                    append("\\u00")
                    hex.withUTF8Buffer { h in
                        byte(h[Int(c >> 4)])
                        byte(h[Int(c & 0xf)])
                    }
                }
            }
            append(UnsafeBufferPointer(rebasing: u[start...]))
        }
        byte(UInt8(ascii: "\""))
    }

    /// A JSON string, or null.
    mutating func jsonString(_ s: String?) {
        if let s { jsonString(s) } else { append("null") }
    }

    /// A JSON number as `JSON.int` makes it: the value as a 64-bit signed integer.
    mutating func jsonInt<T: BinaryInteger>(_ n: T) {
        decimal(Int64(truncatingIfNeeded: n))
    }

    /// An address as a JSON string (addresses need no escapes).
    mutating func jsonAddress(_ a: IPAddress) {
        byte(UInt8(ascii: "\""))
        address(a)
        byte(UInt8(ascii: "\""))
    }

    /// A `JSON` value.
    mutating func json(_ value: JSON) {
        switch value {
        case .null: append("null")
        case .bool(let b): b ? append("true") : append("false")
        case .number(let n): decimal(n)
        case .string(let s): jsonString(s)
        case .array(let items):
            byte(UInt8(ascii: "["))
            for (i, item) in items.enumerated() {
                if i > 0 { byte(UInt8(ascii: ",")) }
                json(item)
            }
            byte(UInt8(ascii: "]"))
        case .object(let fields):
            byte(UInt8(ascii: "{"))
            for (i, (k, v)) in fields.enumerated() {
                if i > 0 { byte(UInt8(ascii: ",")) }
                jsonString(k)
                byte(UInt8(ascii: ":"))
                json(v)
            }
            byte(UInt8(ascii: "}"))
        }
    }
}
