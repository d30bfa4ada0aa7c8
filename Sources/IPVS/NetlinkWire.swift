/// Netlink framing shared by every family: message headers, attributes, nesting.
/// It knows nothing of IPVS; Encoding.swift and Decoding.swift give the attributes their meaning.

/// Builds a buffer of netlink messages, possibly many back to back for one sendmsg.
///
/// `ipvsadm -R` encodes 50,000 messages, so each header and attribute is stored into the
/// buffer in one step, not appended a byte at a time.
public struct NetlinkWriter: Sendable {
    /// Room grown ahead of need; the first `count` bytes are the messages.
    private var storage: [UInt8]
    public private(set) var count = 0
    private var messageStart = 0
    private var nests: [Int] = []

    public init(capacity: Int = 4096) { storage = [UInt8](repeating: 0, count: max(capacity, 64)) }

    /// The messages written so far.
    public var bytes: [UInt8] { Array(storage[0..<count]) }
    public var isEmpty: Bool { count == 0 }

    public mutating func removeAll() {
        count = 0
        nests.removeAll()
    }

    /// Reserves `n` bytes at the end, zeroed, and lets `body` store into them at offset `at`.
    private mutating func write(_ n: Int, _ body: (UnsafeMutableRawBufferPointer, _ at: Int) -> Void) {
        if count + n > storage.count { storage.append(contentsOf: repeatElement(0, count: max(n, storage.count))) }
        let at = count
        storage.withUnsafeMutableBytes { b in
            // Reused storage holds old bytes: padding and unset fields must read as zero.
            b.baseAddress!.advanced(by: at).initializeMemory(as: UInt8.self, repeating: 0, count: n)
            body(b, at)
        }
        count += n
    }

    /// Starts a generic-netlink message: nlmsghdr then genlmsghdr.
    public mutating func beginGeneric(family: UInt16, flags: UInt16, sequence: UInt32, command: UInt8, version: UInt8) {
        messageStart = count
        write(20) { b, at in
            // nlmsg_len (patched by endMessage), type, flags, seq, pid (the kernel fills in ours).
            b.storeBytes(of: family.littleEndian, toByteOffset: at + 4, as: UInt16.self)
            b.storeBytes(of: flags.littleEndian, toByteOffset: at + 6, as: UInt16.self)
            b.storeBytes(of: sequence.littleEndian, toByteOffset: at + 8, as: UInt32.self)
            // genlmsghdr: command, version, reserved.
            b[at + 16] = command
            b[at + 17] = version
        }
    }

    public mutating func endMessage() {
        let length = UInt32(count - messageStart)
        let at = messageStart
        storage.withUnsafeMutableBytes { $0.storeBytes(of: length.littleEndian, toByteOffset: at, as: UInt32.self) }
    }

    public mutating func put(_ type: Int, u8 v: UInt8) { put(type, memoryOf: v) }
    public mutating func put(_ type: Int, u16 v: UInt16) { put(type, memoryOf: v.littleEndian) }
    /// A 16-bit value in network byte order (ports).
    public mutating func put(_ type: Int, be16 v: UInt16) { put(type, memoryOf: v.bigEndian) }
    public mutating func put(_ type: Int, u32 v: UInt32) { put(type, memoryOf: v.littleEndian) }
    /// A 32-bit value in network byte order (IPv4 netmasks).
    public mutating func put(_ type: Int, be32 v: UInt32) { put(type, memoryOf: v.bigEndian) }

    /// A NUL-terminated string.
    public mutating func put(_ type: Int, string: String) {
        var string = string
        string.withUTF8 { utf8 in
            attribute(type, length: utf8.count + 1) { b, at in
                UnsafeMutableRawBufferPointer(rebasing: b[at..<(at + utf8.count)]).copyMemory(from: UnsafeRawBufferPointer(utf8))
            }
        }
    }

    public mutating func put(_ type: Int, payload: [UInt8]) {
        payload.withUnsafeBytes { raw in
            attribute(type, length: raw.count) { b, at in
                UnsafeMutableRawBufferPointer(rebasing: b[at..<(at + raw.count)]).copyMemory(from: raw)
            }
        }
    }

    /// The bytes of a value as they lie in memory: an integer in the byte order wanted, or a tuple of them.
    public mutating func put<T>(_ type: Int, memoryOf value: T) {
        attribute(type, length: MemoryLayout<T>.size) { b, at in
            withUnsafeBytes(of: value) { UnsafeMutableRawBufferPointer(rebasing: b[at..<(at + $0.count)]).copyMemory(from: $0) }
        }
    }

    public mutating func beginNested(_ type: Int) {
        nests.append(count)
        attribute(type | nlaFlagNested, length: 0) { _, _ in }
    }

    public mutating func endNested() {
        let start = nests.removeLast()
        let length = UInt16(count - start)
        storage.withUnsafeMutableBytes { $0.storeBytes(of: length.littleEndian, toByteOffset: start, as: UInt16.self) }
    }

    /// One attribute: its header, `length` bytes that `body` stores at offset `at`, and padding to 4.
    private mutating func attribute(_ type: Int, length: Int, _ body: (UnsafeMutableRawBufferPointer, _ at: Int) -> Void) {
        write(4 + ((length + 3) & ~3)) { b, at in
            b.storeBytes(of: UInt16(4 + length).littleEndian, toByteOffset: at, as: UInt16.self)
            b.storeBytes(of: UInt16(type).littleEndian, toByteOffset: at + 2, as: UInt16.self)
            body(b, at + 4)
        }
    }
}

let nlaFlagNested = 0x8000
let nlaTypeMask = 0x3fff

/// Netlink message types and flags that every family shares (linux/netlink.h).
enum NetlinkConstant {
    static let noop: UInt16 = 1
    static let error: UInt16 = 2
    static let done: UInt16 = 3
    static let request: UInt16 = 0x1
    static let multi: UInt16 = 0x2
    static let ack: UInt16 = 0x4
    static let dump: UInt16 = 0x300
}

/// One message read from a receive buffer.
public struct NetlinkMessage {
    public var type: UInt16
    public var flags: UInt16
    public var sequence: UInt32
    /// The bytes after the 16-byte nlmsghdr.
    public var payload: ArraySlice<UInt8>

    /// For NLMSG_ERROR: the negative errno, 0 for an acknowledgement.
    public var errorCode: Int32? {
        guard type == NetlinkConstant.error, payload.count >= 4 else { return nil }
        return Int32(bitPattern: readLE32(payload, at: payload.startIndex))
    }

    /// Splits a buffer into messages; stops at a truncated one.
    public static func split(_ buffer: ArraySlice<UInt8>) -> [NetlinkMessage] {
        var out: [NetlinkMessage] = []
        forEach(in: buffer) { out.append($0) }
        return out
    }

    /// The messages of a buffer in order, as `split` finds them, without collecting them.
    public static func forEach<E: Error>(in buffer: ArraySlice<UInt8>, _ body: (NetlinkMessage) throws(E) -> Void) throws(E) {
        var i = buffer.startIndex
        while buffer.endIndex - i >= 16 {
            let len = Int(readLE32(buffer, at: i))
            guard len >= 16, i + len <= buffer.endIndex else { break }
            try body(NetlinkMessage(type: readLE16(buffer, at: i + 4), flags: readLE16(buffer, at: i + 6),
                                    sequence: readLE32(buffer, at: i + 8), payload: buffer[(i + 16)..<(i + len)]))
            i += (len + 3) & ~3
        }
    }
}

/// The attributes of one level, by type; later duplicates win, as in the kernel's nla_parse.
public struct NetlinkAttributes {
    private var table: [ArraySlice<UInt8>?]

    public init(_ data: ArraySlice<UInt8>, maxType: Int) {
        table = Array(repeating: nil, count: maxType + 1)
        var i = data.startIndex
        while data.endIndex - i >= 4 {
            let len = Int(readLE16(data, at: i))
            let type = Int(readLE16(data, at: i + 2)) & nlaTypeMask
            guard len >= 4, i + len <= data.endIndex else { break }
            if type <= maxType { table[type] = data[(i + 4)..<(i + len)] }
            i += (len + 3) & ~3
        }
    }

    public subscript(type: Int) -> ArraySlice<UInt8>? { type < table.count ? table[type] : nil }

    public func u8(_ t: Int) -> UInt8? { self[t].flatMap { $0.isEmpty ? nil : $0.first } }
    public func u16(_ t: Int) -> UInt16? { self[t].flatMap { $0.count >= 2 ? readLE16($0, at: $0.startIndex) : nil } }
    public func be16(_ t: Int) -> UInt16? {
        self[t].flatMap { $0.count >= 2 ? UInt16($0[$0.startIndex]) << 8 | UInt16($0[$0.startIndex + 1]) : nil }
    }
    public func u32(_ t: Int) -> UInt32? { self[t].flatMap { $0.count >= 4 ? readLE32($0, at: $0.startIndex) : nil } }
    public func be32(_ t: Int) -> UInt32? { u32(t).map { UInt32(bigEndian: $0) } }
    public func u64(_ t: Int) -> UInt64? {
        self[t].flatMap { s in
            s.count >= 8 ? UInt64(readLE32(s, at: s.startIndex)) | UInt64(readLE32(s, at: s.startIndex + 4)) << 32 : nil
        }
    }
    public func string(_ t: Int) -> String? {
        self[t].map { s in String(decoding: s.prefix { $0 != 0 }, as: UTF8.self) }
    }
}

/// `NetlinkAttributes` for decoders that read many messages (a dump of 10,000 services): the same
/// table of one level's attributes, by type, later duplicates winning, but over raw bytes and in
/// stack memory, valid only inside `withAttributes`.
struct AttributeTable {
    typealias Bytes = UnsafeBufferPointer<UInt8>
    private let table: UnsafeMutableBufferPointer<Bytes?>

    /// Calls `body` with the table of the attributes in `data` whose type is at most `maxType`.
    static func withAttributes<R, E: Error>(_ data: Bytes, maxType: Int, _ body: (AttributeTable) throws(E) -> R) throws(E) -> R {
        try withUnsafeTemporaryAllocation(of: Bytes?.self, capacity: maxType + 1) { (table) throws(E) in
            table.initialize(repeating: nil)
            var i = 0
            while data.count - i >= 4 {
                let len = Int(readLE16(data, at: i))
                let type = Int(readLE16(data, at: i + 2)) & nlaTypeMask
                guard len >= 4, i + len <= data.count else { break }
                if type <= maxType { table[type] = Bytes(rebasing: data[(i + 4)..<(i + len)]) }
                i += (len + 3) & ~3
            }
            return try body(AttributeTable(table: table))
        }
    }

    subscript(type: Int) -> Bytes? { type < table.count ? table[type] : nil }

    func u8(_ t: Int) -> UInt8? { self[t].flatMap { $0.isEmpty ? nil : $0[0] } }
    func u16(_ t: Int) -> UInt16? { self[t].flatMap { $0.count >= 2 ? readLE16($0, at: 0) : nil } }
    func be16(_ t: Int) -> UInt16? { self[t].flatMap { $0.count >= 2 ? UInt16($0[0]) << 8 | UInt16($0[1]) : nil } }
    func u32(_ t: Int) -> UInt32? { self[t].flatMap { $0.count >= 4 ? readLE32($0, at: 0) : nil } }
    func be32(_ t: Int) -> UInt32? { u32(t).map { UInt32(bigEndian: $0) } }
    func u64(_ t: Int) -> UInt64? {
        self[t].flatMap { s in s.count >= 8 ? UInt64(readLE32(s, at: 0)) | UInt64(readLE32(s, at: 4)) << 32 : nil }
    }
    func string(_ t: Int) -> String? {
        self[t].map { s in String(decoding: s.prefix { $0 != 0 }, as: UTF8.self) }
    }
}

@inline(__always) func readLE16(_ b: UnsafeBufferPointer<UInt8>, at i: Int) -> UInt16 {
    UInt16(b[i]) | UInt16(b[i + 1]) << 8
}

@inline(__always) func readLE32(_ b: UnsafeBufferPointer<UInt8>, at i: Int) -> UInt32 {
    UInt32(b[i]) | UInt32(b[i + 1]) << 8 | UInt32(b[i + 2]) << 16 | UInt32(b[i + 3]) << 24
}

@inline(__always) func readLE16(_ b: ArraySlice<UInt8>, at i: Int) -> UInt16 {
    UInt16(b[i]) | UInt16(b[i + 1]) << 8
}

@inline(__always) func readLE32(_ b: ArraySlice<UInt8>, at i: Int) -> UInt32 {
    UInt32(b[i]) | UInt32(b[i + 1]) << 8 | UInt32(b[i + 2]) << 16 | UInt32(b[i + 3]) << 24
}
