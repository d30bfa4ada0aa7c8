import LVSModel

/// The order of the fields in the key of lvsh's maps. lvsh writes `portFirst`; it reads the orders of
/// earlier versions too, so that a table they made is understood and can be replaced whole
/// (Sources/Firewall/README.md, "Earlier layouts").
enum NFTKeyOrder: CaseIterable, Hashable, Sendable {
    /// `inet_service . inet_proto . ADDRESS`: what lvsh writes. The kernel's pipapo set narrows field by
    /// field and a lookup costs about the number of elements matching the fields seen so far; the port
    /// tells apart the one-port groups of one VIP at once (flat in tools/bench/marks `packets`).
    case portFirst
    /// `inet_proto . inet_service . ADDRESS`: lvsh until the port came first (linear in the groups of
    /// one protocol).
    case protocolFirst
    /// `ADDRESS . inet_proto . inet_service`: the first lvsh (linear in the groups of one VIP).
    case addressFirst

    /// The order lvsh writes.
    static let current = NFTKeyOrder.portFirst
}

/// A field of a map's key.
enum NFTKeyField: Hashable, Sendable {
    case port, proto, address
}

/// One of lvsh's three classification maps; which one holds an entry depends on its address family.
enum NFTMap: CaseIterable, Hashable, Sendable {
    /// `inet_service . inet_proto . ipv4_addr : mark`
    case v4
    /// `inet_service . inet_proto . ipv6_addr : mark`
    case v6
    /// `inet_service . inet_proto : mark`, for entries without an address.
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

    /// The key's fields in `order` (no address in `any`).
    func fields(_ order: NFTKeyOrder = .current) -> [NFTKeyField] {
        let all: [NFTKeyField]
        switch order {
        case .portFirst: all = [.port, .proto, .address]
        case .protocolFirst: all = [.proto, .port, .address]
        case .addressFirst: all = [.address, .proto, .port]
        }
        return addressLength == 0 ? all.filter { $0 != .address } : all
    }

    /// A field's length before padding.
    func length(of field: NFTKeyField) -> Int {
        switch field {
        case .port: 2
        case .proto: 1
        case .address: addressLength
        }
    }

    /// Where `field` starts in a key laid out in `order`: every field takes whole 32-bit registers.
    func offset(of field: NFTKeyField, _ order: NFTKeyOrder = .current) -> Int {
        var offset = 0
        for f in fields(order) {
            if f == field { return offset }
            offset += (length(of: f) + 3) / 4 * 4
        }
        preconditionFailure("map \(setName) has no \(field) field")
    }

    /// Each concatenated field's length before padding, as NFTA_SET_DESC_CONCAT wants them: port,
    /// protocol, then the address.
    var fieldLengths: [UInt8] { fields().map { UInt8(length(of: $0)) } }

    /// Key length: every field of a concatenation takes whole 32-bit registers (the same in every order).
    var keyLength: Int { addressLength + 4 + 4 }

    /// nft's datatype id for the concatenation in `order`: the member types, 6 bits each, the first field
    /// highest (TYPE_IPADDR 7, TYPE_IP6ADDR 8, TYPE_INET_PROTOCOL 12, TYPE_INET_SERVICE 13).
    func keyType(_ order: NFTKeyOrder = .current) -> UInt32 {
        fields(order).reduce(0) { type, field in
            let id: UInt32
            switch field {
            case .port: id = 13
            case .proto: id = 12
            case .address: id = self == .v6 ? 8 : 7
            }
            return type << 6 | id
        }
    }

    /// The key type lvsh writes.
    var keyType: UInt32 { keyType(.current) }

    /// The order whose key type is `type`, if any lvsh used it. (`any` had the same key with the
    /// protocol first and with the address first: that answers `protocolFirst`.)
    func order(forKeyType type: UInt32) -> NFTKeyOrder? {
        NFTKeyOrder.allCases.first { keyType($0) == type }
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
    /// The key (first port) and key-end (last port) of `entry`: the port in network order in a 4-byte
    /// register, the protocol in a 4-byte register, then the address bytes, exactly as nft lays out
    /// `inet_service . inet_proto . ipv4_addr` (each field padded to 4 bytes).
    static func keys(of entry: PortGroupEntry) -> (key: NFTKey, keyEnd: NFTKey) {
        let map = NFTMap(for: entry)
        var key = NFTKey(count: map.keyLength)
        key.storeByte(UInt8(truncatingIfNeeded: entry.protocolName.rawValue), at: map.offset(of: .proto))
        if let address = entry.address {
            let a = map.offset(of: .address)
            switch address.family {
            case .v4:
                key.storeBigEndian(address.v4Value, at: a)
            case .v6:
                key.storeBigEndian(address.high, at: a)
                key.storeBigEndian(address.low, at: a + 8)
            }
        }
        var keyEnd = key
        let p = map.offset(of: .port)
        key.storeBigEndian(entry.ports.lowerBound, at: p)
        keyEnd.storeBigEndian(entry.ports.upperBound, at: p)
        return (key, keyEnd)
    }

    /// The entry a map element stands for, its key laid out in `order`, or nil when the element is not
    /// one lvsh could have written (an address range, an unknown protocol, bytes in the padding).
    static func entry(in map: NFTMap, order: NFTKeyOrder = .current, key: NFTKey, keyEnd: NFTKey?) -> PortGroupEntry? {
        let keyEnd = keyEnd ?? key
        guard key.count == map.keyLength, keyEnd.count == map.keyLength else { return nil }
        for field in map.fields(order) {
            let start = map.offset(of: field, order), length = map.length(of: field)
            let padded = (length + 3) / 4 * 4
            // Padding is zero; every field but the port is equal in key and key end: only the port may
            // be a range.
            for i in (start + length)..<(start + padded) where key.byte(at: i) != 0 || keyEnd.byte(at: i) != 0 { return nil }
            if field != .port {
                for i in start..<(start + length) where key.byte(at: i) != keyEnd.byte(at: i) { return nil }
            }
        }
        guard let proto = L4Protocol(rawValue: UInt16(key.byte(at: map.offset(of: .proto, order)))) else { return nil }
        let p = map.offset(of: .port, order)
        let low = key.loadBigEndian(UInt16.self, at: p)
        let high = keyEnd.loadBigEndian(UInt16.self, at: p)
        guard low <= high else { return nil }
        let address: IPAddress?
        switch map {
        case .v4: address = IPAddress(v4: key.loadBigEndian(UInt32.self, at: map.offset(of: .address, order)))
        case .v6:
            let a = map.offset(of: .address, order)
            address = IPAddress(v6High: key.loadBigEndian(UInt64.self, at: a), low: key.loadBigEndian(UInt64.self, at: a + 8))
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
