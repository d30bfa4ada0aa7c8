/// Netlink framing shared by every family: message headers, attributes, nesting.
/// It knows nothing of IPVS; Encoding.swift and Decoding.swift give the attributes their meaning.

/// Builds a buffer of netlink messages, possibly many back to back for one sendmsg.
public struct NetlinkWriter: Sendable {
    public private(set) var bytes: [UInt8] = []
    private var messageStart = 0
    private var nests: [Int] = []

    public init(capacity: Int = 4096) { bytes.reserveCapacity(capacity) }

    public var isEmpty: Bool { bytes.isEmpty }
    public var count: Int { bytes.count }

    public mutating func removeAll() {
        bytes.removeAll(keepingCapacity: true)
        nests.removeAll()
    }

    /// Starts a generic-netlink message: nlmsghdr then genlmsghdr.
    public mutating func beginGeneric(family: UInt16, flags: UInt16, sequence: UInt32, command: UInt8, version: UInt8) {
        messageStart = bytes.count
        append32(0)                 // nlmsg_len, patched by endMessage
        append16(family)
        append16(flags)
        append32(sequence)
        append32(0)                 // nlmsg_pid: the kernel fills in ours
        bytes.append(command)
        bytes.append(version)
        append16(0)                 // genlmsghdr reserved
    }

    public mutating func endMessage() {
        patch32(at: messageStart, UInt32(bytes.count - messageStart))
    }

    public mutating func put(_ type: Int, u8 v: UInt8) { put(type, payload: [v]) }

    public mutating func put(_ type: Int, u16 v: UInt16) {
        attributeHeader(type, length: 2)
        append16(v)
        pad()
    }

    /// A 16-bit value in network byte order (ports).
    public mutating func put(_ type: Int, be16 v: UInt16) {
        attributeHeader(type, length: 2)
        bytes.append(UInt8(v >> 8))
        bytes.append(UInt8(v & 0xff))
        pad()
    }

    public mutating func put(_ type: Int, u32 v: UInt32) {
        attributeHeader(type, length: 4)
        append32(v)
    }

    /// A 32-bit value in network byte order (IPv4 netmasks).
    public mutating func put(_ type: Int, be32 v: UInt32) {
        attributeHeader(type, length: 4)
        append32(v.bigEndian)
    }

    /// A NUL-terminated string.
    public mutating func put(_ type: Int, string: String) {
        let utf8 = Array(string.utf8)
        attributeHeader(type, length: utf8.count + 1)
        bytes.append(contentsOf: utf8)
        bytes.append(0)
        pad()
    }

    public mutating func put(_ type: Int, payload: [UInt8]) {
        attributeHeader(type, length: payload.count)
        bytes.append(contentsOf: payload)
        pad()
    }

    public mutating func beginNested(_ type: Int) {
        nests.append(bytes.count)
        attributeHeader(type | nlaFlagNested, length: 0)
    }

    public mutating func endNested() {
        let start = nests.removeLast()
        let len = bytes.count - start
        bytes[start] = UInt8(len & 0xff)
        bytes[start + 1] = UInt8(len >> 8)
    }

    private mutating func attributeHeader(_ type: Int, length: Int) {
        append16(UInt16(4 + length))
        append16(UInt16(type))
    }

    private mutating func pad() {
        while bytes.count % 4 != 0 { bytes.append(0) }
    }

    private mutating func append16(_ v: UInt16) {
        bytes.append(UInt8(v & 0xff))
        bytes.append(UInt8(v >> 8))
    }

    private mutating func append32(_ v: UInt32) {
        bytes.append(UInt8(v & 0xff))
        bytes.append(UInt8(v >> 8 & 0xff))
        bytes.append(UInt8(v >> 16 & 0xff))
        bytes.append(UInt8(v >> 24))
    }

    private mutating func patch32(at i: Int, _ v: UInt32) {
        bytes[i] = UInt8(v & 0xff)
        bytes[i + 1] = UInt8(v >> 8 & 0xff)
        bytes[i + 2] = UInt8(v >> 16 & 0xff)
        bytes[i + 3] = UInt8(v >> 24)
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
        var i = buffer.startIndex
        while buffer.endIndex - i >= 16 {
            let len = Int(readLE32(buffer, at: i))
            guard len >= 16, i + len <= buffer.endIndex else { break }
            out.append(NetlinkMessage(type: readLE16(buffer, at: i + 4), flags: readLE16(buffer, at: i + 6),
                                      sequence: readLE32(buffer, at: i + 8), payload: buffer[(i + 16)..<(i + len)]))
            i += (len + 3) & ~3
        }
        return out
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

@inline(__always) func readLE16(_ b: ArraySlice<UInt8>, at i: Int) -> UInt16 {
    UInt16(b[i]) | UInt16(b[i + 1]) << 8
}

@inline(__always) func readLE32(_ b: ArraySlice<UInt8>, at i: Int) -> UInt32 {
    UInt32(b[i]) | UInt32(b[i + 1]) << 8 | UInt32(b[i + 2]) << 16 | UInt32(b[i + 3]) << 24
}
