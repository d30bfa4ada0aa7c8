import CNetlink
import LVSModel

/// The address part of a map's key: which rule looks the map up.
enum NFTKeyFamily: String, CaseIterable, Hashable, Sendable {
    case v4, v6, any
}

/// One of lvsh's six classification maps: per address family, one hash map for single ports and one
/// interval map for port ranges (Sources/Firewall/README.md, "Layout"). Every key is laid out as nft
/// lays out `ADDRESS . inet_proto . inet_service`: the address bytes, the protocol in a 4-byte register,
/// the port in network order in a 4-byte register (no address for `any`).
struct NFTMap: Hashable, Sendable, CaseIterable {
    /// Exact single ports, or port ranges.
    enum Kind: String, Hashable, Sendable {
        /// A hash map (nft_set_hash): a lookup costs the same whatever the number of elements, and
        /// the key type is nft's concatenation, so `nft list` shows `10.0.0.1 . tcp . 80`.
        case ports
        /// A one-field interval map (nft_set_rbtree) over the whole key as one big-endian integer:
        /// a range is the keys from its first port to its last, a lookup costs log n in the number of
        /// ranges whatever their shape. (A concatenated interval map is a pipapo set, whose lookup
        /// costs the number of elements that match its first fields: linear in many VIPs on one port
        /// with the port first, in many ports of one VIP with the address first.)
        case ranges
    }

    var family: NFTKeyFamily
    var kind: Kind

    static let allCases: [NFTMap] = [NFTKeyFamily.v4, .v6, .any].flatMap { f in [Kind.ports, .ranges].map { NFTMap(family: f, kind: $0) } }

    init(family: NFTKeyFamily, kind: Kind) {
        self.family = family
        self.kind = kind
    }

    /// The map holding `entry`.
    init(for entry: PortGroupEntry) {
        switch entry.address?.family {
        case .v4?: family = .v4
        case .v6?: family = .v6
        case nil: family = .any
        }
        kind = entry.ports.count == 1 ? .ports : .ranges
    }

    /// The set's name inside table inet lvsh: `v4_ports`, `any_ranges`, ...
    var setName: String { "\(family.rawValue)_\(kind.rawValue)" }

    /// Bytes of the address field (0 for `any`).
    var addressLength: Int {
        switch family {
        case .v4: 4
        case .v6: 16
        case .any: 0
        }
    }

    /// Where the protocol register starts (the port register follows it).
    var protocolOffset: Int { addressLength }
    var portOffset: Int { addressLength + 4 }
    /// Key length: the address, then two 32-bit registers.
    var keyLength: Int { addressLength + 8 }

    /// nft's datatype id of the concatenation `ADDRESS . inet_proto . inet_service`: member types, 6
    /// bits each, the first highest (TYPE_IPADDR 7, TYPE_IP6ADDR 8, TYPE_INET_PROTOCOL 12,
    /// TYPE_INET_SERVICE 13). The interval maps are TYPE_INTEGER (4): nft prints their keys as numbers.
    var keyType: UInt32 {
        guard kind == .ports else { return 4 }
        switch family {
        case .v4: return 7 << 12 | 12 << 6 | 13
        case .v6: return 8 << 12 | 12 << 6 | 13
        case .any: return 12 << 6 | 13
        }
    }

    /// The key's fields in nft's words, for listings and the interval maps' comments.
    var keyWords: String {
        switch family {
        case .v4: "ipv4_addr . inet_proto . inet_service"
        case .v6: "ipv6_addr . inet_proto . inet_service"
        case .any: "inet_proto . inet_service"
        }
    }

    /// The comment of an interval map, which `nft list` shows above its numeric keys.
    var comment: String? {
        kind == .ranges ? "port ranges: \(keyWords) as one \(keyLength * 8)-bit integer; `lvsh show groups` decodes them" : nil
    }

    /// Size of one element in a NEWSETELEM/DELSETELEM message: the list-element nest, the key nest
    /// (4 + 4 + key), and the data nest (4 + 4 + 4 mark bytes) or the flags attribute (8).
    func encodedElementLength(withData: Bool) -> Int {
        4 + 8 + keyLength + (withData ? 12 : 8)
    }
}

/// A concatenated set key (at most 24 bytes) kept inline, so that encoding an entry allocates nothing.
struct NFTKey: Equatable, Comparable, Sendable {
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

    /// Byte order, as the kernel's interval map compares keys (memcmp).
    static func < (a: NFTKey, b: NFTKey) -> Bool {
        a.withUnsafeBytes { x in b.withUnsafeBytes { y in x.lexicographicallyPrecedes(y) } }
    }
}

/// Converts between port-group entries and the keys of lvsh's maps (pure; no libnftnl).
enum NFTElementCodec {
    /// The last byte of a range's end key: the interval map's end element is exclusive, so it is the
    /// key of the last port with 1 in the port register's last padding byte. Keys of packets have 0
    /// there, so the range holds exactly its ports, and ends never collide with starts.
    static let endMarker: UInt8 = 1

    /// The key of `port` in `entry`'s map.
    static func key(of entry: PortGroupEntry, port: UInt16) -> NFTKey {
        let map = NFTMap(for: entry)
        var key = NFTKey(count: map.keyLength)
        if let address = entry.address {
            switch address.family {
            case .v4:
                key.storeBigEndian(address.v4Value, at: 0)
            case .v6:
                key.storeBigEndian(address.high, at: 0)
                key.storeBigEndian(address.low, at: 8)
            }
        }
        key.storeByte(UInt8(truncatingIfNeeded: entry.protocolName.rawValue), at: map.protocolOffset)
        key.storeBigEndian(port, at: map.portOffset)
        return key
    }

    /// The map holding `entry` and its element keys: one key for a single port; a range's first key and
    /// its end key (the last port's key with `endMarker`).
    static func keys(of entry: PortGroupEntry) -> (map: NFTMap, key: NFTKey, end: NFTKey?) {
        keys(of: entry, in: NFTMap(for: entry))
    }

    /// `keys(of:)` in a given map of the entry's family: a single port as a one-port range in the
    /// interval map (for probes).
    static func keys(of entry: PortGroupEntry, in map: NFTMap) -> (map: NFTMap, key: NFTKey, end: NFTKey?) {
        let key = key(of: entry, port: entry.ports.lowerBound)
        guard map.kind == .ranges else { return (map, key, nil) }
        var end = self.key(of: entry, port: entry.ports.upperBound)
        end.storeByte(endMarker, at: map.keyLength - 1)
        return (map, key, end)
    }

    /// The address, protocol and port of a key of `map`, nil when lvsh cannot have written it (bytes in
    /// the padding, an unknown protocol, a wrong length). `isEnd`: a range's end key.
    static func fields(of key: NFTKey, in map: NFTMap, isEnd: Bool = false) -> (address: IPAddress?, proto: L4Protocol, port: UInt16)? {
        guard key.count == map.keyLength else { return nil }
        let p = map.protocolOffset
        for i in [p + 1, p + 2, p + 3, map.portOffset + 2] where key.byte(at: i) != 0 { return nil }
        guard key.byte(at: map.keyLength - 1) == (isEnd ? endMarker : 0),
              let proto = L4Protocol(rawValue: UInt16(key.byte(at: p))) else { return nil }
        let address: IPAddress?
        switch map.family {
        case .v4: address = IPAddress(v4: key.loadBigEndian(UInt32.self, at: 0))
        case .v6: address = IPAddress(v6High: key.loadBigEndian(UInt64.self, at: 0), low: key.loadBigEndian(UInt64.self, at: 8))
        case .any: address = nil
        }
        return (address, proto, key.loadBigEndian(UInt16.self, at: map.portOffset))
    }

    /// The entry of a single-port element, or of a range's first and end keys; nil when they are not
    /// what lvsh writes (then the reader names the element).
    static func entry(in map: NFTMap, key: NFTKey, end: NFTKey?) -> PortGroupEntry? {
        guard let first = fields(of: key, in: map) else { return nil }
        switch map.kind {
        case .ports:
            guard end == nil else { return nil }
            return PortGroupEntry(address: first.address, protocol: first.proto, ports: first.port...first.port)
        case .ranges:
            guard let end, let last = fields(of: end, in: map, isEnd: true), last.address == first.address,
                  last.proto == first.proto, first.port < last.port else { return nil }
            return PortGroupEntry(address: first.address, protocol: first.proto, ports: first.port...last.port)
        }
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

    /// A set's comment TLV (NFTNL_UDATA_SET_COMMENT), which nft lists as `comment "..."`.
    static func setComment(_ text: String) -> [UInt8] {
        var tlv = comment(text)
        tlv[0] = UInt8(NFTNL_UDATA_SET_COMMENT.rawValue)
        return tlv
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
