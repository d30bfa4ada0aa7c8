import LVSModel

/// One of lvsh's three classification maps; which one holds an entry depends on its address family.
enum NFTMap: CaseIterable, Hashable, Sendable {
    /// `inet_proto . inet_service . ipv4_addr : mark`
    case v4
    /// `inet_proto . inet_service . ipv6_addr : mark`
    case v6
    /// `inet_proto . inet_service : mark`, for entries without an address.
    case any

    /// The map holding `entry`.
    init(for entry: PortGroupEntry) {
        switch entry.address?.family {
        case .v4?: self = .v4
        case .v6?: self = .v6
        case nil: self = .any
        }
    }

    /// The set's name inside table inet lvsh.
    var setName: String {
        switch self {
        case .v4: "v4"
        case .v6: "v6"
        case .any: "any"
        }
    }

    /// Bytes of the address field (0 for `any`).
    var addressLength: Int {
        switch self {
        case .v4: 4
        case .v6: 16
        case .any: 0
        }
    }

    /// Each concatenated field's length before padding, as NFTA_SET_DESC_CONCAT wants them: protocol,
    /// port, then the address. (The kernel's pipapo set narrows field by field, so a lookup costs about
    /// the elements matching the leading field: the protocol still lets every group of one protocol
    /// through; only a port-led key measured flat in tools/bench/marks.)
    var fieldLengths: [UInt8] { addressLength == 0 ? [1, 2] : [1, 2, UInt8(addressLength)] }

    /// Where the address starts in a key: after the protocol and port registers.
    static let addressOffset = 8

    /// Key length: every field of a concatenation takes whole 32-bit registers.
    var keyLength: Int { addressLength + 4 + 4 }

    /// nft's datatype id for the concatenation: the member types, 6 bits each, the first field highest
    /// (TYPE_IPADDR 7, TYPE_IP6ADDR 8, TYPE_INET_PROTOCOL 12, TYPE_INET_SERVICE 13).
    var keyType: UInt32 {
        let head: UInt32 = 12 << 6 | 13
        switch self {
        case .v4: return head << 6 | 7
        case .v6: return head << 6 | 8
        case .any: return head
        }
    }

    /// The key type an earlier lvsh gave this map (`ipv4_addr . inet_proto . inet_service`), nil for
    /// `any`, whose key did not change.
    var legacyKeyType: UInt32? {
        switch self {
        case .v4: return 7 << 12 | 12 << 6 | 13
        case .v6: return 8 << 12 | 12 << 6 | 13
        case .any: return nil
        }
    }

    /// Size of one element in a NEWSETELEM/DELSETELEM message: the list-element nest, key and key-end
    /// nests (4 + 4 + key), and for adds the data nest (4 + 4 + 4 mark bytes).
    func encodedElementLength(withData: Bool) -> Int {
        4 + 2 * (8 + keyLength) + (withData ? 12 : 0)
    }
}

/// A concatenated set key (at most 24 bytes) kept inline, so that encoding an entry allocates nothing.
struct NFTKey: Equatable, Sendable {
    private var storage: (UInt64, UInt64, UInt64) = (0, 0, 0)
    /// How many of the 24 bytes are used.
    private(set) var count: Int

    init(count: Int) {
        precondition(count <= 24)
        self.count = count
    }

    init?(bytes: UnsafeRawBufferPointer) {
        guard bytes.count <= 24 else { return nil }
        self.init(count: bytes.count)
        withUnsafeMutableBytes(of: &storage) { $0.copyMemory(from: bytes) }
    }

    /// Stores `value` in network byte order at `offset`.
    mutating func storeBigEndian<T: FixedWidthInteger>(_ value: T, at offset: Int) {
        withUnsafeMutableBytes(of: &storage) { $0.storeBytes(of: value.bigEndian, toByteOffset: offset, as: T.self) }
    }

    mutating func storeByte(_ value: UInt8, at offset: Int) {
        withUnsafeMutableBytes(of: &storage) { $0[offset] = value }
    }

    func loadBigEndian<T: FixedWidthInteger>(_: T.Type, at offset: Int) -> T {
        Swift.withUnsafeBytes(of: storage) { T(bigEndian: $0.loadUnaligned(fromByteOffset: offset, as: T.self)) }
    }

    func byte(at offset: Int) -> UInt8 { Swift.withUnsafeBytes(of: storage) { $0[offset] } }

    func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try Swift.withUnsafeBytes(of: storage) { try body(UnsafeRawBufferPointer(rebasing: $0[0..<count])) }
    }

    var bytes: [UInt8] { withUnsafeBytes { Array($0) } }

    static func == (a: NFTKey, b: NFTKey) -> Bool {
        a.count == b.count && a.storage == b.storage
    }
}

/// Converts between port-group entries and the keys of lvsh's maps (pure; no libnftnl).
enum NFTElementCodec {
    /// The key (first port) and key-end (last port) of `entry`: the protocol in a 4-byte register, the
    /// port in network order in a 4-byte register, then the address bytes, exactly as nft lays out
    /// `inet_proto . inet_service . ipv4_addr` (each field padded to 4 bytes).
    static func keys(of entry: PortGroupEntry) -> (key: NFTKey, keyEnd: NFTKey) {
        let map = NFTMap(for: entry)
        var key = NFTKey(count: map.keyLength)
        key.storeByte(UInt8(truncatingIfNeeded: entry.protocolName.rawValue), at: 0)
        if let address = entry.address {
            let a = NFTMap.addressOffset
            switch address.family {
            case .v4:
                key.storeBigEndian(address.v4Value, at: a)
            case .v6:
                key.storeBigEndian(address.high, at: a)
                key.storeBigEndian(address.low, at: a + 8)
            }
        }
        var keyEnd = key
        key.storeBigEndian(entry.ports.lowerBound, at: 4)
        keyEnd.storeBigEndian(entry.ports.upperBound, at: 4)
        return (key, keyEnd)
    }

    /// The entry a map element stands for, or nil when the element is not one lvsh could have written
    /// (an address range, an unknown protocol, bytes in the padding).
    static func entry(in map: NFTMap, key: NFTKey, keyEnd: NFTKey?) -> PortGroupEntry? {
        let keyEnd = keyEnd ?? key
        guard key.count == map.keyLength, keyEnd.count == map.keyLength else { return nil }
        let a = NFTMap.addressOffset
        // Protocol and address registers must be equal: only the port may be a range.
        for i in 0..<4 where key.byte(at: i) != keyEnd.byte(at: i) { return nil }
        for i in a..<map.keyLength where key.byte(at: i) != keyEnd.byte(at: i) { return nil }
        guard key.byte(at: 1) == 0, key.byte(at: 2) == 0, key.byte(at: 3) == 0,
              key.byte(at: 6) == 0, key.byte(at: 7) == 0, keyEnd.byte(at: 6) == 0,
              keyEnd.byte(at: 7) == 0,
              let proto = L4Protocol(rawValue: UInt16(key.byte(at: 0))) else { return nil }
        let low = key.loadBigEndian(UInt16.self, at: 4)
        let high = keyEnd.loadBigEndian(UInt16.self, at: 4)
        guard low <= high else { return nil }
        let address: IPAddress?
        switch map {
        case .v4: address = IPAddress(v4: key.loadBigEndian(UInt32.self, at: a))
        case .v6: address = IPAddress(v6High: key.loadBigEndian(UInt64.self, at: a), low: key.loadBigEndian(UInt64.self, at: a + 8))
        case .any: address = nil
        }
        return PortGroupEntry(address: address, protocol: proto, ports: low...high)
    }

    /// A mark as map data or as a key of the `groups` set: the kernel's meta mark is a host-order u32.
    static func markBytes(_ mark: UInt32) -> [UInt8] {
        Swift.withUnsafeBytes(of: mark) { Array($0) }
    }

    static func mark(from bytes: UnsafeRawBufferPointer) -> UInt32? {
        guard bytes.count == 4 else { return nil }
        return bytes.loadUnaligned(as: UInt32.self)
    }
}

/// The TLVs nft keeps in NFTA_*_USERDATA: one type byte, one length byte, the value.
enum NFTUserdata {
    /// NFTNL_UDATA_SET_ELEM_COMMENT, NFTNL_UDATA_TABLE_COMMENT and NFTNL_UDATA_RULE_COMMENT are all 0.
    static let commentType: UInt8 = 0
    /// nft's limit for comments (NFTNL_UDATA_COMMENT_MAXLEN), including the terminating NUL.
    static let maxCommentLength = 128

    /// A comment TLV as nft writes it: the text NUL-terminated.
    static func comment(_ text: String) -> [UInt8] {
        let utf8 = Array(text.utf8.prefix(maxCommentLength - 1))
        return [commentType, UInt8(utf8.count + 1)] + utf8 + [0]
    }

    /// A u32 TLV in host order, as nft writes NFTNL_UDATA_SET_KEYBYTEORDER and friends.
    static func u32(type: UInt8, _ value: UInt32) -> [UInt8] {
        [type, 4] + Swift.withUnsafeBytes(of: value) { Array($0) }
    }

    /// The comment in a userdata blob, if there is one.
    static func comment(in data: UnsafeRawBufferPointer) -> String? {
        var i = 0
        while i + 2 <= data.count {
            let type = data[i], length = Int(data[i + 1])
            guard i + 2 + length <= data.count else { return nil }
            if type == commentType {
                var value = UnsafeRawBufferPointer(rebasing: data[(i + 2)..<(i + 2 + length)])
                if let nul = value.firstIndex(of: 0) { value = UnsafeRawBufferPointer(rebasing: value[..<nul]) }
                return String(decoding: value, as: UTF8.self)
            }
            i += 2 + length
        }
        return nil
    }
}
