#if canImport(Glibc)
import Glibc
#endif
import CNetlink
import LVSModel

/// lvsh's table as one read found it, all from one ruleset generation.
struct NFTSnapshot: Sendable {
    var generation: UInt32
    var inventory = NFTLayout.Inventory()
    /// The `groups` set: mark → group name.
    var names: [UInt32: String] = [:]
    /// Groups sorted by name, entries sorted; a mark found in the maps but not in `groups` (someone
    /// added it with nft) shows as a group named "mark-N", so that it can be seen and deleted.
    var groups: [PortGroup] = []
}

/// Reads table inet lvsh with GETTABLE/GETSET/GETCHAIN/GETRULE/GETSETELEM dumps parsed by libnftnl.
/// The generation is read before and after: if it moved, the read is inconsistent (`.rulesetChanged`).
struct NFTReader {
    let socket: NFTSocket
    let family = NFTLayout.family

    func read() throws(NFTError) -> NFTSnapshot {
        let generation = try socket.generation()
        var snapshot = NFTSnapshot(generation: generation)
        snapshot.inventory = try inventory()
        if snapshot.inventory.table {
            do { _ = try NFTLayout.missing(from: snapshot.inventory) } catch { throw .failed(error) }
            if snapshot.inventory.sets[NFTLayout.groupsSet] != nil { snapshot.names = try names() }
            var entries: [UInt32: [PortGroupEntry]] = [:]
            for map in NFTMap.allCases where snapshot.inventory.sets[map.setName] != nil {
                try readEntries(of: map, into: &entries)
            }
            for map in NFTEarlierMap.allCases {
                // An earlier lvsh's maps are read in their key order (`missing` vouched for it).
                guard let order = snapshot.inventory.keyOrder(of: map) else { continue }
                try readEntries(of: map, order: order, into: &entries)
            }
            var groups: [PortGroup] = []
            for mark in Set(snapshot.names.keys).union(entries.keys) {
                groups.append(PortGroup(name: snapshot.names[mark] ?? "mark-\(mark)", mark: mark,
                                        entries: (entries[mark] ?? []).sorted()))
            }
            snapshot.groups = groups.sorted { ($0.name, $0.mark) < ($1.name, $1.mark) }
        }
        guard try socket.generation() == generation else { throw .rulesetChanged }
        return snapshot
    }

    /// Which of lvsh's objects exist, and their shapes.
    func inventory() throws(NFTError) -> NFTLayout.Inventory {
        var inv = NFTLayout.Inventory()
        try socket.request(NFT_MSG_GETTABLE, family: family, dump: true, what: "list the inet tables") { nlh in
            let t = nftnl_table_alloc()!
            defer { nftnl_table_free(t) }
            if nftnl_table_nlmsg_parse(nlh, t) >= 0, nftString(nftnl_table_get_str(t, nftAttr(NFTNL_TABLE_NAME))) == NFTLayout.table {
                inv.table = true
            }
        }
        guard inv.table else { return inv }
        try socket.request(NFT_MSG_GETSET, family: family, dump: true, what: "list the sets of table inet lvsh",
                           attributes: { mnl_attr_put_strz($0, nftAttr(NFTA_SET_TABLE), NFTLayout.table) }) { nlh in
            let s = nftnl_set_alloc()!
            defer { nftnl_set_free(s) }
            guard nftnl_set_nlmsg_parse(nlh, s) >= 0,
                  nftString(nftnl_set_get_str(s, nftAttr(NFTNL_SET_TABLE))) == NFTLayout.table,
                  let name = nftString(nftnl_set_get_str(s, nftAttr(NFTNL_SET_NAME))) else { return }
            inv.sets[name] = NFTLayout.SetShape(flags: nftnl_set_get_u32(s, nftAttr(NFTNL_SET_FLAGS)),
                                                keyType: nftnl_set_get_u32(s, nftAttr(NFTNL_SET_KEY_TYPE)),
                                                keyLength: nftnl_set_get_u32(s, nftAttr(NFTNL_SET_KEY_LEN)),
                                                dataLength: nftnl_set_get_u32(s, nftAttr(NFTNL_SET_DATA_LEN)))
        }
        try socket.request(NFT_MSG_GETCHAIN, family: family, dump: true, what: "list the chains of table inet lvsh") { nlh in
            let c = nftnl_chain_alloc()!
            defer { nftnl_chain_free(c) }
            guard nftnl_chain_nlmsg_parse(nlh, c) >= 0,
                  nftString(nftnl_chain_get_str(c, nftAttr(NFTNL_CHAIN_TABLE))) == NFTLayout.table,
                  let name = nftString(nftnl_chain_get_str(c, nftAttr(NFTNL_CHAIN_NAME))) else { return }
            inv.chains[name] = nftnl_chain_is_set(c, nftAttr(NFTNL_CHAIN_HOOKNUM))
                ? Int32(bitPattern: nftnl_chain_get_u32(c, nftAttr(NFTNL_CHAIN_HOOKNUM))) : -1
        }
        try socket.request(NFT_MSG_GETRULE, family: family, dump: true, what: "list the rules of table inet lvsh",
                           attributes: { mnl_attr_put_strz($0, nftAttr(NFTA_RULE_TABLE), NFTLayout.table) }) { nlh in
            let r = nftnl_rule_alloc()!
            defer { nftnl_rule_free(r) }
            guard nftnl_rule_nlmsg_parse(nlh, r) >= 0,
                  nftString(nftnl_rule_get_str(r, nftAttr(NFTNL_RULE_TABLE))) == NFTLayout.table,
                  let chain = nftString(nftnl_rule_get_str(r, nftAttr(NFTNL_RULE_CHAIN))),
                  let iter = nftnl_expr_iter_create(r) else { return }
            defer { nftnl_expr_iter_destroy(iter) }
            // A rule is lvsh's rule for a map when it looks that map up; nothing else identifies it.
            while let e = nftnl_expr_iter_next(iter) {
                if nftString(nftnl_expr_get_str(e, nftAttr(NFTNL_EXPR_NAME))) == "lookup",
                   let set = nftString(nftnl_expr_get_str(e, nftAttr(NFTNL_EXPR_LOOKUP_SET))) {
                    inv.rules.insert(NFTLayout.RuleRef(chain: chain, set: set))
                }
            }
        }
        return inv
    }

    /// The `groups` set: each element a mark, its comment the group's name.
    func names() throws(NFTError) -> [UInt32: String] {
        var names: [UInt32: String] = [:]
        try elements(of: NFTLayout.groupsSet) { e in
            var len: UInt32 = 0
            guard let k = nftnl_set_elem_get(e, nftAttr(NFTNL_SET_ELEM_KEY), &len),
                  let mark = NFTElementCodec.mark(from: UnsafeRawBufferPointer(start: k, count: Int(len))) else { return }
            var ulen: UInt32 = 0
            let name = nftnl_set_elem_get(e, nftAttr(NFTNL_SET_ELEM_USERDATA), &ulen).flatMap {
                NFTUserdata.comment(in: UnsafeRawBufferPointer(start: $0, count: Int(ulen)))
            }
            names[mark] = name ?? "mark-\(mark)"
        }
        return names
    }

    /// A map's elements as entries per mark; an element lvsh could not have written is an error naming
    /// it, rather than something silently left out of the groups. An interval map holds a range as two
    /// elements, its first key (with the mark) and its end key (flagged as an interval's end): sorted,
    /// starts and ends alternate, so the i-th start pairs with the i-th end.
    func readEntries(of map: NFTMap, into entries: inout [UInt32: [PortGroupEntry]]) throws(NFTError) {
        var foreign: NFTKey?
        var starts: [(key: NFTKey, mark: UInt32)] = [], ends: [NFTKey] = []
        try elements(of: map.setName) { e in
            var klen: UInt32 = 0, dlen: UInt32 = 0
            guard let k = nftnl_set_elem_get(e, nftAttr(NFTNL_SET_ELEM_KEY), &klen),
                  let key = NFTKey(bytes: UnsafeRawBufferPointer(start: k, count: Int(klen))) else { return }
            let flags = nftnl_set_elem_is_set(e, nftAttr(NFTNL_SET_ELEM_FLAGS)) ? nftnl_set_elem_get_u32(e, nftAttr(NFTNL_SET_ELEM_FLAGS)) : 0
            if flags & UInt32(NFT_SET_ELEM_INTERVAL_END.rawValue) != 0 {
                if map.kind == .ranges { ends.append(key) } else if foreign == nil { foreign = key }
                return
            }
            guard let d = nftnl_set_elem_get(e, nftAttr(NFTNL_SET_ELEM_DATA), &dlen),
                  let mark = NFTElementCodec.mark(from: UnsafeRawBufferPointer(start: d, count: Int(dlen))) else {
                if foreign == nil { foreign = key }
                return
            }
            if map.kind == .ranges {
                starts.append((key, mark))
            } else if let entry = NFTElementCodec.entry(in: map, key: key, end: nil) {
                entries[mark, default: []].append(entry)
            } else if foreign == nil {
                foreign = key
            }
        }
        if map.kind == .ranges && foreign == nil {
            starts.sort { $0.key < $1.key }
            ends.sort()
            for (i, start) in starts.enumerated() {
                guard i < ends.count, let entry = NFTElementCodec.entry(in: map, key: start.key, end: ends[i]),
                      i + 1 == starts.count || ends[i] < starts[i + 1].key else {
                    foreign = start.key
                    break
                }
                entries[start.mark, default: []].append(entry)
            }
            if foreign == nil && ends.count > starts.count { foreign = ends[starts.count] }
        }
        if let foreign { throw Self.foreignElement(map.setName, foreign) }
    }

    /// An earlier lvsh's map, its keys laid out in `order`, as entries per mark.
    func readEntries(of map: NFTEarlierMap, order: NFTKeyOrder, into entries: inout [UInt32: [PortGroupEntry]]) throws(NFTError) {
        var foreign: NFTKey?
        try elements(of: map.setName) { e in
            var klen: UInt32 = 0, elen: UInt32 = 0, dlen: UInt32 = 0
            guard let k = nftnl_set_elem_get(e, nftAttr(NFTNL_SET_ELEM_KEY), &klen),
                  let key = NFTKey(bytes: UnsafeRawBufferPointer(start: k, count: Int(klen))) else { return }
            let keyEnd = nftnl_set_elem_get(e, nftAttr(NFTNL_SET_ELEM_KEY_END), &elen).flatMap {
                NFTKey(bytes: UnsafeRawBufferPointer(start: $0, count: Int(elen)))
            }
            guard let d = nftnl_set_elem_get(e, nftAttr(NFTNL_SET_ELEM_DATA), &dlen),
                  let mark = NFTElementCodec.mark(from: UnsafeRawBufferPointer(start: d, count: Int(dlen))),
                  let entry = NFTElementCodec.entry(in: map, order: order, key: key, keyEnd: keyEnd) else {
                if foreign == nil { foreign = key }
                return
            }
            entries[mark, default: []].append(entry)
        }
        if let foreign { throw Self.foreignElement(map.setName, foreign) }
    }

    static func foreignElement(_ set: String, _ key: NFTKey) -> NFTError {
        let bytes = key.bytes.map { String($0, radix: 16) }.joined(separator: " ")
        return .failed(.failed("map \(set) of table inet lvsh holds an element lvsh did not write (key bytes \(bytes)); list it with `nft list map inet lvsh \(set)` and delete it with `nft delete element inet lvsh \(set) { ... }`"))
    }

    /// Dumps a set's elements (GETSETELEM), parsing each answer with nftnl_set_elems_nlmsg_parse into a
    /// set object that lives for that one message: memory stays bounded whatever the set's size.
    func elements(of set: String, _ body: (OpaquePointer) -> Void) throws(NFTError) {
        try socket.request(NFT_MSG_GETSETELEM, family: family, dump: true, what: "list the elements of \(set) in table inet lvsh",
                               attributes: { nlh in
                                   mnl_attr_put_strz(nlh, nftAttr(NFTA_SET_ELEM_LIST_TABLE), NFTLayout.table)
                                   mnl_attr_put_strz(nlh, nftAttr(NFTA_SET_ELEM_LIST_SET), set)
                               }) { (nlh) throws(NFTError) in
                let s = nftnl_set_alloc()!
                defer { nftnl_set_free(s) }
                guard nftnl_set_elems_nlmsg_parse(nlh, s) >= 0 else {
                    throw .failed(.failed("cannot parse the elements of \(set) that nf_tables sent"))
                }
                guard let iter = nftnl_set_elems_iter_create(s) else { return }
                defer { nftnl_set_elems_iter_destroy(iter) }
                while let e = nftnl_set_elems_iter_next(iter) { body(e) }
            }
    }
}

/// A C string as a Swift string, nil for NULL.
func nftString(_ p: UnsafePointer<CChar>?) -> String? { p.map { String(cString: $0) } }
