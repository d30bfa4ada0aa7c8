import LVSModel

/// The order of the fields in the key of the interval maps `v4`, `v6` and `any` that earlier lvsh
/// versions wrote. lvsh reads them, so that such a table is understood until the next change
/// replaces it whole (Sources/Firewall/README.md, "Earlier layouts"); it never writes them.
enum NFTKeyOrder: CaseIterable, Hashable, Sendable {
    /// `inet_service . inet_proto . ADDRESS`: lvsh of steps 4 and 5 (linear in the VIPs sharing a port).
    case portFirst
    /// `inet_proto . inet_service . ADDRESS`: lvsh until the port came first (linear in the groups of
    /// one protocol).
    case protocolFirst
    /// `ADDRESS . inet_proto . inet_service`: the first lvsh (linear in the groups of one VIP).
    case addressFirst
}

/// A field of a map's key.
enum NFTKeyField: Hashable, Sendable {
    case port, proto, address
}

/// One of the three pipapo interval maps of earlier lvsh versions (`NFTKeyOrder`).
enum NFTEarlierMap: CaseIterable, Hashable, Sendable {
    /// `inet_service . inet_proto . ipv4_addr : mark`
    case v4
    /// `inet_service . inet_proto . ipv6_addr : mark`
    case v6
    /// `inet_service . inet_proto : mark`, for entries without an address.
    case any

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
    func fields(_ order: NFTKeyOrder) -> [NFTKeyField] {
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
    func offset(of field: NFTKeyField, _ order: NFTKeyOrder) -> Int {
        var offset = 0
        for f in fields(order) {
            if f == field { return offset }
            offset += (length(of: f) + 3) / 4 * 4
        }
        preconditionFailure("map \(setName) has no \(field) field")
    }

    /// Key length: every field of a concatenation takes whole 32-bit registers (the same in every order).
    var keyLength: Int { addressLength + 4 + 4 }

    /// nft's datatype id for the concatenation in `order`: the member types, 6 bits each, the first field
    /// highest (TYPE_IPADDR 7, TYPE_IP6ADDR 8, TYPE_INET_PROTOCOL 12, TYPE_INET_SERVICE 13).
    func keyType(_ order: NFTKeyOrder) -> UInt32 {
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

    /// The order whose key type is `type`, if any lvsh used it. (`any` had the same key with the
    /// protocol first and with the address first: that answers `protocolFirst`.)
    func order(forKeyType type: UInt32) -> NFTKeyOrder? {
        NFTKeyOrder.allCases.first { keyType($0) == type }
    }
}

extension NFTElementCodec {
    /// The entry a map element stands for, its key laid out in `order`, or nil when the element is not
    /// one lvsh could have written (an address range, an unknown protocol, bytes in the padding).
    static func entry(in map: NFTEarlierMap, order: NFTKeyOrder, key: NFTKey, keyEnd: NFTKey?) -> PortGroupEntry? {
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
}
