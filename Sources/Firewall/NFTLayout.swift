#if canImport(Glibc)
import Glibc
#endif
import CNetlink
import LVSModel

/// The objects of table inet lvsh: what they are, how to create the missing ones, and how to tell
/// whether the ones found are lvsh's. Everything lvsh writes lives in this one table.
enum NFTLayout {
    static let table = "lvsh"
    static let family = UInt16(NFPROTO_INET)
    /// The set of marks in use, each element's comment naming its group: names live in the kernel,
    /// and a group without entries still exists.
    static let groupsSet = "groups"
    static let tableComment = "lvsh port groups: marks by address . protocol . port; single ports in *_ports, ranges in *_ranges; names in @groups"

    /// A base chain that marks packets.
    struct Chain: Hashable, Sendable {
        var name: String
        var type: String
        var hook: Int32
    }

    /// Prerouting marks what arrives; output (type route, so a new mark re-routes) marks what the
    /// director itself sends to a VIP. Both at mangle priority (-150), like iptables' mangle table: after
    /// conntrack (-200), long before IPVS looks for a service in LOCAL_IN / LOCAL_OUT.
    static let chains = [
        Chain(name: "prerouting", type: "filter", hook: Int32(NF_INET_PRE_ROUTING.rawValue)),
        Chain(name: "output", type: "route", hook: Int32(NF_INET_LOCAL_OUT.rawValue)),
    ]
    static let priority: Int32 = -150 // NF_IP_PRI_MANGLE

    /// Which objects a read found; `missing` says what a batch must create.
    struct Inventory: Equatable, Sendable {
        var table = false
        /// Set name → (flags, key type, key length, data length) as the kernel reports them.
        var sets: [String: SetShape] = [:]
        var chains: [String: Int32] = [:]
        /// (chain, map) for every rule that looks a map up.
        var rules: Set<RuleRef> = []

        /// The key order of an earlier lvsh's map found, nil for a map whose key type no lvsh wrote.
        func keyOrder(of map: NFTEarlierMap) -> NFTKeyOrder? {
            sets[map.setName].flatMap { map.order(forKeyType: $0.keyType) }
        }

        /// Whether the table holds a map of an earlier lvsh (`v4`, `v6`, `any`): the table is then
        /// replaced whole by the next change (`NFTLayout.missing`).
        var hasEarlierLayout: Bool {
            NFTEarlierMap.allCases.contains { sets[$0.setName] != nil }
        }
    }

    struct SetShape: Hashable, Sendable {
        var flags: UInt32
        var keyType: UInt32
        var keyLength: UInt32
        var dataLength: UInt32
    }

    struct RuleRef: Hashable, Sendable {
        var chain: String
        var set: String
    }

    /// The objects a batch must create before it adds elements.
    struct Missing: Equatable, Sendable {
        /// Delete the table found (made by an earlier lvsh) and create everything anew, in the same batch.
        var replaceTable = false
        var table = false
        var sets: [String] = []
        var chains: [Chain] = []
        var rules: [RuleRef] = []
        var isEmpty: Bool { !replaceTable && !table && sets.isEmpty && chains.isEmpty && rules.isEmpty }

        /// Every object, as for an empty ruleset.
        static var everything: Missing {
            Missing(table: true, sets: setNames, chains: NFTLayout.chains,
                    rules: NFTLayout.chains.flatMap { c in NFTMap.allCases.map { RuleRef(chain: c.name, set: $0.setName) } })
        }
    }

    static func shape(of set: String) -> SetShape {
        guard let map = NFTMap.allCases.first(where: { $0.setName == set }) else {
            return SetShape(flags: 0, keyType: 19, keyLength: 4, dataLength: 0) // TYPE_MARK
        }
        let interval = map.kind == .ranges ? UInt32(NFT_SET_INTERVAL.rawValue) : 0
        return SetShape(flags: interval | UInt32(NFT_SET_MAP.rawValue), keyType: map.keyType,
                        keyLength: UInt32(map.keyLength), dataLength: 4)
    }

    static var setNames: [String] { [groupsSet] + NFTMap.allCases.map(\.setName) }

    /// What is missing from `found`; throws when an object has lvsh's name but not lvsh's shape,
    /// since adding elements or rules to it would go wrong. A table whose maps an earlier lvsh keyed in
    /// another order (`NFTKeyOrder`) is replaced whole: delete it and create everything, in the batch
    /// that also writes every group (`NFTablesBackend.update`), so marking never stops.
    static func missing(from found: Inventory) throws(LVSError) -> Missing {
        var m = Missing(table: !found.table)
        for map in NFTEarlierMap.allCases {
            // An earlier lvsh's map goes with its table; one with a key type no lvsh wrote is foreign.
            if let have = found.sets[map.setName], map.order(forKeyType: have.keyType) == nil || have.dataLength != 4 {
                throw foreign("set \(map.setName)")
            }
        }
        for name in setNames {
            guard let have = found.sets[name] else { m.sets.append(name); continue }
            let want = shape(of: name)
            // The interval flag decides the kind of set the kernel made: it must be exactly lvsh's.
            let kindFlags = UInt32(NFT_SET_INTERVAL.rawValue | NFT_SET_MAP.rawValue | NFT_SET_CONCAT.rawValue)
            if have.keyType != want.keyType || have.keyLength != want.keyLength || have.dataLength != want.dataLength
                || have.flags & kindFlags != want.flags {
                throw foreign("set \(name)")
            }
        }
        for chain in chains {
            guard let hook = found.chains[chain.name] else { m.chains.append(chain); continue }
            if hook != chain.hook { throw foreign("chain \(chain.name)") }
        }
        if found.hasEarlierLayout {
            var all = Missing.everything
            all.replaceTable = true
            return all
        }
        for chain in chains {
            for map in NFTMap.allCases where !found.rules.contains(RuleRef(chain: chain.name, set: map.setName)) {
                m.rules.append(RuleRef(chain: chain.name, set: map.setName))
            }
        }
        return m
    }

    private static func foreign(_ what: String) -> LVSError {
        .failed("table inet lvsh has a \(what) that lvsh did not make; remove the table with `nft delete table inet lvsh` (this stops all marking until the groups are written again)")
    }

    // MARK: building

    /// Appends messages creating everything in `missing`, in dependency order.
    static func append(_ missing: Missing, to batch: NFTBatch) {
        let create = Int32(NLM_F_CREATE)
        if missing.replaceTable {
            // Objects deleted in a transaction are inactive in the next generation, so the same names
            // can be created again after this in the same batch.
            appendDeleteTable(to: batch)
        }
        if missing.table {
            batch.append(NFT_MSG_NEWTABLE, flags: create, note: .init(what: "create table inet lvsh")) { nlh in
                let t = nftnl_table_alloc()!
                defer { nftnl_table_free(t) }
                _ = nftnl_table_set_str(t, nftAttr(NFTNL_TABLE_NAME), table)
                nftnl_table_set_u32(t, nftAttr(NFTNL_TABLE_FAMILY), UInt32(family))
                nftnl_table_set_u32(t, nftAttr(NFTNL_TABLE_FLAGS), 0)
                NFTUserdata.comment(tableComment).withUnsafeBytes {
                    _ = nftnl_table_set_data(t, nftAttr(NFTNL_TABLE_USERDATA), $0.baseAddress, UInt32($0.count))
                }
                nftnl_table_nlmsg_build_payload(nlh, t)
            }
        }
        var setIDs: [String: UInt32] = [:]
        for name in missing.sets {
            let id = UInt32(setIDs.count + 1)
            setIDs[name] = id
            batch.append(NFT_MSG_NEWSET, flags: create, note: .init(what: "create \(name == groupsSet ? "set" : "map") \(name) in table inet lvsh")) { nlh in
                let s = makeSet(name, id: id)
                defer { nftnl_set_free(s) }
                nftnl_set_nlmsg_build_payload(nlh, s)
            }
        }
        for chain in missing.chains {
            batch.append(NFT_MSG_NEWCHAIN, flags: create, note: .init(what: "create chain \(chain.name) (type \(chain.type)) in table inet lvsh")) { nlh in
                let c = nftnl_chain_alloc()!
                defer { nftnl_chain_free(c) }
                _ = nftnl_chain_set_str(c, nftAttr(NFTNL_CHAIN_TABLE), table)
                _ = nftnl_chain_set_str(c, nftAttr(NFTNL_CHAIN_NAME), chain.name)
                nftnl_chain_set_u32(c, nftAttr(NFTNL_CHAIN_FAMILY), UInt32(family))
                _ = nftnl_chain_set_str(c, nftAttr(NFTNL_CHAIN_TYPE), chain.type)
                nftnl_chain_set_u32(c, nftAttr(NFTNL_CHAIN_HOOKNUM), UInt32(chain.hook))
                nftnl_chain_set_s32(c, nftAttr(NFTNL_CHAIN_PRIO), priority)
                nftnl_chain_set_u32(c, nftAttr(NFTNL_CHAIN_POLICY), UInt32(NF_ACCEPT))
                nftnl_chain_nlmsg_build_payload(nlh, c)
            }
        }
        for ref in missing.rules {
            let map = NFTMap.allCases.first { $0.setName == ref.set }!
            batch.append(NFT_MSG_NEWRULE, flags: create | Int32(NLM_F_APPEND), note: .init(what: "add the rule that looks up map \(ref.set) to chain \(ref.chain)")) { nlh in
                let r = nftnl_rule_alloc()!
                defer { nftnl_rule_free(r) }
                _ = nftnl_rule_set_str(r, nftAttr(NFTNL_RULE_TABLE), table)
                _ = nftnl_rule_set_str(r, nftAttr(NFTNL_RULE_CHAIN), ref.chain)
                nftnl_rule_set_u32(r, nftAttr(NFTNL_RULE_FAMILY), UInt32(family))
                for e in expressions(for: map, setID: setIDs[ref.set]) { e.append(to: r) }
                nftnl_rule_nlmsg_build_payload(nlh, r)
            }
        }
    }

    /// A libnftnl set as nft 1.0.6 would create it for the same declaration.
    static func makeSet(_ name: String, id: UInt32) -> OpaquePointer {
        let s = nftnl_set_alloc()!
        let shape = shape(of: name)
        _ = nftnl_set_set_str(s, nftAttr(NFTNL_SET_TABLE), table)
        _ = nftnl_set_set_str(s, nftAttr(NFTNL_SET_NAME), name)
        nftnl_set_set_u32(s, nftAttr(NFTNL_SET_FAMILY), UInt32(family))
        nftnl_set_set_u32(s, nftAttr(NFTNL_SET_FLAGS), shape.flags)
        nftnl_set_set_u32(s, nftAttr(NFTNL_SET_KEY_TYPE), shape.keyType)
        nftnl_set_set_u32(s, nftAttr(NFTNL_SET_KEY_LEN), shape.keyLength)
        nftnl_set_set_u32(s, nftAttr(NFTNL_SET_ID), id)
        // nft reads the byte order of keys and data from these TLVs (BYTEORDER_HOST_ENDIAN is 1,
        // BIG_ENDIAN 2; a concatenation's own order is 0, each member having its own). No
        // NFTA_SET_DESC_CONCAT: with field lengths the kernel wants a pipapo set, which is what lvsh avoids.
        let map = NFTMap.allCases.first { $0.setName == name }
        let keyOrder: UInt32 = map == nil ? 1 : map!.kind == .ranges ? 2 : 0
        var udata = NFTUserdata.u32(type: UInt8(NFTNL_UDATA_SET_KEYBYTEORDER.rawValue), keyOrder)
        if let map {
            nftnl_set_set_u32(s, nftAttr(NFTNL_SET_DATA_TYPE), 19) // TYPE_MARK
            nftnl_set_set_u32(s, nftAttr(NFTNL_SET_DATA_LEN), shape.dataLength)
            udata += NFTUserdata.u32(type: UInt8(NFTNL_UDATA_SET_DATABYTEORDER.rawValue), 1)
            if let comment = map.comment { udata += NFTUserdata.setComment(comment) }
        }
        udata.withUnsafeBytes { _ = nftnl_set_set_data(s, nftAttr(NFTNL_SET_USERDATA), $0.baseAddress, UInt32($0.count)) }
        return s
    }

    /// `meta mark set ip daddr . meta l4proto . th dport map @v4_ports` (and the ip6 and address-less
    /// forms, the same for the ranges maps), with the registers nft uses: each field of the key starts a
    /// 32-bit register (the address from reg 8 on, then the protocol, then the port). nft also puts a
    /// `byteorder` of the one-byte protocol after its load, which does nothing (len 1, size 2: no 16-bit
    /// word to swap); lvsh leaves it out. The loads write whole registers (the kernel zeroes the rest of
    /// a partly written one), so the padding of a packet's key is zero, as `NFTElementCodec` needs.
    static func expressions(for map: NFTMap, setID: UInt32?) -> [NFTExpression] {
        let reg1 = Int32(NFT_REG_1.rawValue), reg32 = Int32(NFT_REG32_00.rawValue)
        let network = UInt32(NFT_PAYLOAD_NETWORK_HEADER.rawValue), transport = UInt32(NFT_PAYLOAD_TRANSPORT_HEADER.rawValue)
        let nfproto = Int32(NFT_META_NFPROTO.rawValue), l4proto = Int32(NFT_META_L4PROTO.rawValue)
        var e: [NFTExpression] = []
        switch map.family {
        case .v4:
            e.append(NFTMetaLoad(key: nfproto, register: reg1))
            e.append(NFTCompareEqual(register: reg1, data: [UInt8(NFPROTO_IPV4)]))
            e.append(NFTPayloadLoad(base: network, offset: 16, length: 4, register: reg32))
        case .v6:
            e.append(NFTMetaLoad(key: nfproto, register: reg1))
            e.append(NFTCompareEqual(register: reg1, data: [UInt8(NFPROTO_IPV6)]))
            e.append(NFTPayloadLoad(base: network, offset: 24, length: 16, register: reg32))
        case .any:
            break
        }
        let protocolRegister = reg32 + Int32(map.protocolOffset / 4)
        e.append(NFTMetaLoad(key: l4proto, register: protocolRegister))
        e.append(NFTPayloadLoad(base: transport, offset: 2, length: 2, register: protocolRegister + 1))
        e.append(NFTMapLookup(set: map.setName, setID: setID, source: reg1, destination: reg1))
        e.append(NFTMetaSet(key: Int32(NFT_META_MARK.rawValue), register: reg1))
        return e
    }

    /// Appends the deletion of the whole table (all groups and rules).
    static func appendDeleteTable(to batch: NFTBatch) {
        batch.append(NFT_MSG_DELTABLE, flags: 0, note: .init(what: "delete table inet lvsh")) { nlh in
            mnl_attr_put_strz(nlh, nftAttr(NFTA_TABLE_NAME), table)
        }
    }
}
