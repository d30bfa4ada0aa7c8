#if canImport(Glibc)
import Glibc
#endif
import CNetlink
import LVSModel

/// Builds NEWSETELEM/DELSETELEM messages: as many elements per message as a 16-bit nest length allows,
/// one libnftnl element object per message refilled for each element, so nothing is allocated per
/// element. The kernel's extended ack names the refused element by its offset, which the note maps back.
extension NFTBatch {
    /// The largest NFTA_SET_ELEM_LIST_ELEMENTS nest: its length field has 16 bits.
    static let maxNestLength = 65535

    /// Appends messages for `count` elements of `set`. `fill` sets the libnftnl element's attributes for
    /// element `i`; `describe` names element `i` in an error ("entry '10.0.0.1 tcp 80' of group web").
    func appendElements(set: String, count: Int, adding: Bool, maxElementLength: Int,
                        describe: @escaping (Int) -> String,
                        fill: (OpaquePointer, Int) -> Void) {
        var next = 0
        while next < count {
            let first = next
            var offsets: [UInt32] = []
            let verb = adding ? "add" : "delete"
            append(adding ? NFT_MSG_NEWSETELEM : NFT_MSG_DELSETELEM,
                   flags: adding ? Int32(NLM_F_CREATE | NLM_F_EXCL) : 0,
                   note: Note(what: "\(verb) elements of \(set) in table inet lvsh", element: nil)) { nlh in
                mnl_attr_put_strz(nlh, nftAttr(NFTA_SET_ELEM_LIST_TABLE), NFTLayout.table)
                mnl_attr_put_strz(nlh, nftAttr(NFTA_SET_ELEM_LIST_SET), set)
                let nest = mnl_attr_nest_start(nlh, nftAttr(NFTA_SET_ELEM_LIST_ELEMENTS))!
                let nestStart = Int(nlh.pointee.nlmsg_len) - 4
                let e = nftnl_set_elem_alloc()!
                defer { nftnl_set_elem_free(e) }
                var i: Int32 = 0
                while next < count, Int(nlh.pointee.nlmsg_len) - nestStart + maxElementLength <= NFTBatch.maxNestLength {
                    fill(e, next)
                    offsets.append(nlh.pointee.nlmsg_len)
                    i += 1
                    // The nest type counts up as in libnftnl's own builder; the kernel ignores it.
                    _ = nftnl_set_elem_nlmsg_build(nlh, e, i)
                    next += 1
                }
                mnl_attr_nest_end(nlh, nest)
            }
            let described = offsets
            annotateLast(Note(what: "\(verb) \(next - first) element(s) of \(set) in table inet lvsh") { offset in
                // The element whose nest starts at or before the blamed offset.
                var lo = 0, hi = described.count
                while lo < hi {
                    let mid = (lo + hi) / 2
                    if described[mid] <= offset { lo = mid + 1 } else { hi = mid }
                }
                return lo == 0 ? nil : describe(first + lo - 1)
            })
        }
    }

    /// Adds or deletes map elements for entries; adds carry the group's mark as the element's data. A
    /// single port is one element of its family's hash map; a range two of its interval map, the first
    /// key with the mark and the end key flagged NFT_SET_ELEM_INTERVAL_END (deleted the same way).
    func appendEntries(_ elements: [NFTEntryElement], adding: Bool, groupName: @escaping (UInt32) -> String) {
        let endFlag = UInt32(NFT_SET_ELEM_INTERVAL_END.rawValue)
        // One pass to sort the elements into their maps (100,000 of them on a large load).
        var byMap: [NFTMap: [NFTEntryElement]] = [:]
        for e in elements { byMap[e.map, default: []].append(e) }
        for map in NFTMap.allCases {
            guard let mine = byMap[map] else { continue }
            let keys = mine.map { NFTElementCodec.keys(of: $0.entry, in: map) }
            let perEntry = map.kind == .ranges ? 2 : 1
            appendElements(set: map.setName, count: mine.count * perEntry, adding: adding,
                           maxElementLength: map.encodedElementLength(withData: adding),
                           describe: { "entry '\(mine[$0 / perEntry].entry.description)' of group \(groupName(mine[$0 / perEntry].mark))" }) { e, i in
                let (_, key, end) = keys[i / perEntry]
                if i % perEntry == 1, let end {
                    end.withUnsafeBytes { _ = nftnl_set_elem_set(e, nftAttr(NFTNL_SET_ELEM_KEY), $0.baseAddress, UInt32($0.count)) }
                    nftnl_set_elem_unset(e, nftAttr(NFTNL_SET_ELEM_DATA))
                    nftnl_set_elem_set_u32(e, nftAttr(NFTNL_SET_ELEM_FLAGS), endFlag)
                    return
                }
                key.withUnsafeBytes { _ = nftnl_set_elem_set(e, nftAttr(NFTNL_SET_ELEM_KEY), $0.baseAddress, UInt32($0.count)) }
                nftnl_set_elem_unset(e, nftAttr(NFTNL_SET_ELEM_FLAGS))
                if adding {
                    var mark = mine[i / perEntry].mark
                    _ = nftnl_set_elem_set(e, nftAttr(NFTNL_SET_ELEM_DATA), &mark, 4)
                }
            }
        }
    }

    /// Adds or deletes elements of the `groups` set; adds carry the group's name as the comment.
    func appendNames(_ names: [NFTNameElement], adding: Bool) {
        guard !names.isEmpty else { return }
        // List nest, key nest with a u32 value, userdata with a comment of up to 128 bytes.
        let longest = 4 + 12 + 4 + 2 + NFTUserdata.maxCommentLength + 3
        appendElements(set: NFTLayout.groupsSet, count: names.count, adding: adding, maxElementLength: longest,
                       describe: { "group \(names[$0].name) (mark \(names[$0].mark))" }) { e, i in
            var mark = names[i].mark
            _ = nftnl_set_elem_set(e, nftAttr(NFTNL_SET_ELEM_KEY), &mark, 4)
            if adding {
                NFTUserdata.comment(names[i].name).withUnsafeBytes {
                    _ = nftnl_set_elem_set(e, nftAttr(NFTNL_SET_ELEM_USERDATA), $0.baseAddress, UInt32($0.count))
                }
            }
        }
    }
}
