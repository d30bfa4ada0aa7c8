import CNetlink
import Testing
@testable import Firewall
import LVSModel

/// Key and message encoding, compared with what nft 1.0.6 sent (captured with
/// `strace -e sendmsg -xx nft -f`) for the same objects.
@Suite struct NFTEncodingTests {
    static let vip = IPAddress("192.168.61.129")!

    static let v4Ports = NFTMap(family: .v4, kind: .ports), v4Ranges = NFTMap(family: .v4, kind: .ranges)

    @Test("an IPv4 entry's key is address, protocol register, port register; a range's end key marks the last port")
    func v4Key() {
        let single = NFTElementCodec.keys(of: PortGroupEntry(address: Self.vip, protocol: .tcp, ports: 80...80))
        #expect(single.map == Self.v4Ports && single.end == nil)
        #expect(single.key.bytes == [0xc0, 0xa8, 0x3d, 0x81, 6, 0, 0, 0, 0, 80, 0, 0])
        let range = NFTElementCodec.keys(of: PortGroupEntry(address: Self.vip, protocol: .tcp, ports: 80...81))
        #expect(range.map == Self.v4Ranges)
        #expect(range.key.bytes == [0xc0, 0xa8, 0x3d, 0x81, 6, 0, 0, 0, 0, 80, 0, 0])
        #expect(range.end?.bytes == [0xc0, 0xa8, 0x3d, 0x81, 6, 0, 0, 0, 0, 81, 0, 1], "exclusive: the last port's key + 1")
    }

    @Test("an IPv6 entry's key is 24 bytes; an address-less entry's is 8")
    func v6AndAnyKeys() {
        let v6 = NFTElementCodec.keys(of: PortGroupEntry(address: IPAddress("2001:db8::1")!, protocol: .sctp, ports: 443...443))
        #expect(v6.key.bytes == [0x20, 0x01, 0x0d, 0xb8] + [UInt8](repeating: 0, count: 11) + [1] + [132, 0, 0, 0, 0x01, 0xbb, 0, 0])
        #expect(v6.map == NFTMap(family: .v6, kind: .ports))
        let any = NFTElementCodec.keys(of: PortGroupEntry(address: nil, protocol: .udp, ports: 53...54))
        #expect(any.key.bytes == [17, 0, 0, 0, 0, 53, 0, 0] && any.end?.bytes == [17, 0, 0, 0, 0, 54, 0, 1])
        #expect(any.map == NFTMap(family: .any, kind: .ranges))
    }

    @Test("keys decode back to the entry they encode", arguments: [
        PortGroupEntry(address: IPAddress("10.1.2.3")!, protocol: .tcp, ports: 1...65535),
        PortGroupEntry(address: IPAddress("10.1.2.3")!, protocol: .tcp, ports: 65535...65535),
        PortGroupEntry(address: IPAddress("fe80::1:2")!, protocol: .udp, ports: 5060...5061),
        PortGroupEntry(address: nil, protocol: .sctp, ports: 0...0),
        PortGroupEntry(address: nil, protocol: .tcp, ports: 0...65535),
    ])
    func roundTrip(entry: PortGroupEntry) {
        let (map, key, end) = NFTElementCodec.keys(of: entry)
        #expect(NFTElementCodec.entry(in: map, key: key, end: end) == entry)
    }

    @Test("elements lvsh cannot have written do not decode: address ranges, unknown protocols, padding, wrong lengths")
    func foreignKeys() {
        let a = NFTElementCodec.keys(of: PortGroupEntry(address: IPAddress("10.0.0.1")!, protocol: .tcp, ports: 80...80)).key
        var b = NFTElementCodec.keys(of: PortGroupEntry(address: IPAddress("10.0.0.9")!, protocol: .tcp, ports: 90...90)).key
        b.storeByte(1, at: 11)
        #expect(NFTElementCodec.entry(in: Self.v4Ranges, key: a, end: b) == nil, "only the port may be a range")
        #expect(NFTElementCodec.entry(in: Self.v4Ports, key: a, end: b) == nil, "a hash element has no end")
        #expect(NFTElementCodec.entry(in: Self.v4Ranges, key: a, end: a) == nil, "an end key carries the end marker")
        var icmp = a
        icmp.storeByte(1, at: 4)
        #expect(NFTElementCodec.entry(in: Self.v4Ports, key: icmp, end: nil) == nil)
        #expect(NFTElementCodec.entry(in: NFTMap(family: .v6, kind: .ports), key: a, end: nil) == nil)
        for offset in [5, 6, 7, 10, 11] { // the protocol register's padding, the port register's
            var padded = a
            padded.storeByte(1, at: offset)
            #expect(NFTElementCodec.entry(in: Self.v4Ports, key: padded, end: nil) == nil)
        }
        var backwards = NFTElementCodec.keys(of: PortGroupEntry(address: IPAddress("10.0.0.1")!, protocol: .tcp, ports: 70...70)).key
        backwards.storeByte(1, at: 11)
        #expect(NFTElementCodec.entry(in: Self.v4Ranges, key: a, end: backwards) == nil, "the last port before the first")
    }

    @Test("keys of earlier lvsh versions decode in their order: port first, protocol first, address first")
    func earlierOrders() {
        func key(_ b: [UInt8]) -> NFTKey { b.withUnsafeBytes { NFTKey(bytes: $0)! } }
        let v4 = PortGroupEntry(address: Self.vip, protocol: .tcp, ports: 80...81)
        #expect(NFTElementCodec.entry(in: .v4, order: .portFirst, key: key([0, 80, 0, 0, 6, 0, 0, 0, 0xc0, 0xa8, 0x3d, 0x81]),
                                      keyEnd: key([0, 81, 0, 0, 6, 0, 0, 0, 0xc0, 0xa8, 0x3d, 0x81])) == v4)
        #expect(NFTElementCodec.entry(in: .v4, order: .protocolFirst, key: key([6, 0, 0, 0, 0, 80, 0, 0, 0xc0, 0xa8, 0x3d, 0x81]),
                                      keyEnd: key([6, 0, 0, 0, 0, 81, 0, 0, 0xc0, 0xa8, 0x3d, 0x81])) == v4)
        #expect(NFTElementCodec.entry(in: .v4, order: .addressFirst, key: key([0xc0, 0xa8, 0x3d, 0x81, 6, 0, 0, 0, 0, 80, 0, 0]),
                                      keyEnd: key([0xc0, 0xa8, 0x3d, 0x81, 6, 0, 0, 0, 0, 81, 0, 0])) == v4)
        let v6 = key([0x20, 0x01, 0x0d, 0xb8] + [UInt8](repeating: 0, count: 11) + [1] + [132, 0, 0, 0, 0x01, 0xbb, 0, 0])
        #expect(NFTElementCodec.entry(in: .v6, order: .addressFirst, key: v6, keyEnd: nil)
                == PortGroupEntry(address: IPAddress("2001:db8::1")!, protocol: .sctp, ports: 443...443))
        #expect(NFTElementCodec.entry(in: .any, order: .protocolFirst, key: key([17, 0, 0, 0, 0, 53, 0, 0]), keyEnd: nil)
                == PortGroupEntry(address: nil, protocol: .udp, ports: 53...53))
        // Port-first bytes read protocol first are not taken for an entry (port 80 is no protocol).
        #expect(NFTElementCodec.entry(in: .v4, order: .protocolFirst, key: key([0, 80, 0, 0, 6, 0, 0, 0, 0xc0, 0xa8, 0x3d, 0x81]), keyEnd: nil) == nil)
    }

    @Test("the hash maps' key types are nft's concatenation ids, the first field in the high bits; the interval maps' are integers")
    func keyTypes() {
        #expect(NFTMap.allCases.map(\.setName) == ["v4_ports", "v4_ranges", "v6_ports", "v6_ranges", "any_ports", "any_ranges"])
        #expect(NFTMap.allCases.map(\.keyType) == [0x730d, 4, 0x830d, 4, 0x30d, 4]) // ipv4_addr 7 . inet_proto 12 . inet_service 13
        #expect(NFTMap.allCases.map(\.keyLength) == [12, 12, 24, 24, 8, 8])
        #expect(NFTEarlierMap.v4.keyType(.portFirst) == 0xd307 && NFTEarlierMap.v6.keyType(.portFirst) == 0xd308)
        #expect(NFTEarlierMap.v4.keyType(.protocolFirst) == 0xc347 && NFTEarlierMap.v6.keyType(.protocolFirst) == 0xc348)
        #expect(NFTEarlierMap.any.keyType(.portFirst) == 0x34c && NFTEarlierMap.any.keyType(.protocolFirst) == 0x30d)
        #expect(NFTEarlierMap.v4.keyType(.addressFirst) == 0x730d && NFTEarlierMap.v6.keyType(.addressFirst) == 0x830d)
        #expect(NFTEarlierMap.v4.order(forKeyType: 0xd307) == .portFirst && NFTEarlierMap.v4.order(forKeyType: 0x730d) == .addressFirst)
        #expect(NFTEarlierMap.any.order(forKeyType: 0x30d) == .protocolFirst && NFTEarlierMap.v4.order(forKeyType: 0x30d) == nil)
    }

    @Test("an interval key prints as the number nft shows for it")
    func decimalKeys() {
        func key(_ b: [UInt8]) -> NFTKey { b.withUnsafeBytes { NFTKey(bytes: $0)! } }
        #expect(NFTText.decimal(key([0, 0, 0, 0, 0, 0, 0, 0])) == "0")
        #expect(NFTText.decimal(key([0, 0, 0, 0, 0x3b, 0x9a, 0xca, 0x00])) == "1000000000")
        // nft's own listing of `tcp . 30000-30100` in any_ranges starts 432345566193647616
        #expect(NFTText.decimal(key([6, 0, 0, 0, 0x75, 0x30, 0, 0])) == "432345566193647616")
        #expect(NFTText.decimal(key([UInt8](repeating: 0xff, count: 24))) == "6277101735386680763835789423207666416102355444464034512895")
    }

    @Test("comments are nft's TLV: type 0, length with the NUL, text, NUL")
    func commentTLV() {
        #expect(NFTUserdata.comment("web") == [0, 4, 0x77, 0x65, 0x62, 0])
        let blob: [UInt8] = NFTUserdata.u32(type: 1, 7) + NFTUserdata.comment("dns")
        #expect(blob.withUnsafeBytes { NFTUserdata.comment(in: $0) } == "dns")
        #expect([UInt8]([0, 9, 1]).withUnsafeBytes { NFTUserdata.comment(in: $0) } == nil)
    }

    /// The NFTA_SET_ELEM_LIST_ELEMENTS attribute of the batch's only element message.
    func elementsAttribute(_ batch: NFTBatch) -> [UInt8] {
        let bytes = batch.bytes
        // BATCH_BEGIN (20 bytes, no genid here), then the message: header 16, nfgenmsg 4, attributes.
        let start = 20, len = Int(bytes[start]) | Int(bytes[start + 1]) << 8
        var i = start + 20
        while i < start + len {
            let alen = Int(bytes[i]) | Int(bytes[i + 1]) << 8, type = Int(bytes[i + 2]) | Int(bytes[i + 3] & 0x3f) << 8
            if type == Int(NFTA_SET_ELEM_LIST_ELEMENTS.rawValue) { return Array(bytes[(i + 4)..<(i + alen)]) }
            i += (alen + 3) & ~3
        }
        return []
    }

    @Test("map elements are byte for byte what nft sends for `192.168.61.129 . tcp . 80 : 1000` and a range's two keys")
    func mapElementMatchesNft() {
        let batch = NFTBatch(generation: nil, firstSequence: 1)
        batch.appendEntries([NFTEntryElement(entry: PortGroupEntry(address: Self.vip, protocol: .tcp, ports: 80...80), mark: 1000)],
                            adding: true, groupName: { _ in "web" })
        batch.end()
        // From nft 1.0.6's NEWSETELEM for map v4_ports (`type ipv4_addr . inet_proto . inet_service : mark`),
        // `add element inet lvsh v4_ports { 192.168.61.129 . tcp . 80 : 1000 }` in a fresh `unshare -n`.
        let key: [UInt8] = [0xc0, 0xa8, 0x3d, 0x81, 0x06, 0x00, 0x00, 0x00, 0x00, 0x50, 0x00, 0x00]
        let nft: [UInt8] = [0x24, 0x00, 0x01, 0x80, 0x14, 0x00, 0x01, 0x80, 0x10, 0x00, 0x01, 0x00] + key
            + [0x0c, 0x00, 0x02, 0x80, 0x08, 0x00, 0x01, 0x00, 0xe8, 0x03, 0x00, 0x00]
        #expect(elementsAttribute(batch) == nft)
        #expect(nft.count == Self.v4Ports.encodedElementLength(withData: true))

        // A range: the first key with the mark, then the end key flagged NFT_SET_ELEM_INTERVAL_END, as
        // nft sends an interval (its extra leading end element at key 0 closes the open start of the
        // map, which the kernel does not need).
        let ranges = NFTBatch(generation: nil, firstSequence: 1)
        ranges.appendEntries([NFTEntryElement(entry: PortGroupEntry(address: Self.vip, protocol: .tcp, ports: 80...81), mark: 1000)],
                             adding: true, groupName: { _ in "web" })
        ranges.end()
        let end: [UInt8] = [0x20, 0x00, 0x02, 0x80, 0x08, 0x00, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01, 0x14, 0x00, 0x01, 0x80, 0x10, 0x00, 0x01, 0x00,
                            0xc0, 0xa8, 0x3d, 0x81, 0x06, 0x00, 0x00, 0x00, 0x00, 0x51, 0x00, 0x01]
        #expect(elementsAttribute(ranges) == nft + end)
        #expect(end.count == Self.v4Ranges.encodedElementLength(withData: false))
    }

    @Test("a groups element is byte for byte what nft sends for `1000 comment \"web\"`")
    func nameElementMatchesNft() {
        let batch = NFTBatch(generation: nil, firstSequence: 1)
        batch.appendNames([NFTNameElement(mark: 1000, name: "web")], adding: true)
        batch.end()
        let nft: [UInt8] = [0x1c, 0x00, 0x01, 0x80, 0x0c, 0x00, 0x01, 0x80, 0x08, 0x00, 0x01, 0x00, 0xe8, 0x03, 0x00, 0x00,
                            0x0a, 0x00, 0x06, 0x00, 0x00, 0x04, 0x77, 0x65, 0x62, 0x00, 0x00, 0x00]
        #expect(elementsAttribute(batch) == nft)
    }

    @Test("BATCH_BEGIN carries the generation in network order and res_id NFNL_SUBSYS_NFTABLES")
    func batchBegin() {
        let batch = NFTBatch(generation: 0x0102_0304, firstSequence: 77)
        batch.end()
        let b = batch.bytes
        #expect(Array(b[0..<4]) == [28, 0, 0, 0])              // 16 + 4 + one u32 attribute
        #expect(Array(b[4..<6]) == [0x10, 0x00])               // NFNL_MSG_BATCH_BEGIN
        #expect(Array(b[8..<12]) == [77, 0, 0, 0])
        #expect(Array(b[18..<20]) == [0x00, 0x0a])             // res_id htons(10)
        #expect(Array(b[20..<28]) == [8, 0, 1, 0, 1, 2, 3, 4]) // NFNL_BATCH_GENID
        #expect(batch.stats == NFTBatchStats(messages: 2, bytes: 48))
        #expect(batch.sequences == 77...78)
    }

    @Test("thousands of elements split into messages whose element nest stays under 64 KB, in one batch")
    func chunking() {
        let entries = (0..<5000).map {
            NFTEntryElement(entry: PortGroupEntry(address: IPAddress(v4: 0x0a00_0000 + UInt32($0)), protocol: .tcp, ports: 80...80), mark: 7)
        }
        let batch = NFTBatch(generation: 1, firstSequence: 1)
        batch.appendEntries(entries, adding: true, groupName: { _ in "g" })
        batch.end()
        let perMessage = (NFTBatch.maxNestLength - 4) / Self.v4Ports.encodedElementLength(withData: true)
        let messages = (5000 + perMessage - 1) / perMessage
        #expect(batch.stats.messages == messages + 2)
        #expect(batch.stats.bytes < 5000 * 36 + messages * 64 + 100)
    }

    @Test("a set message parses back with lvsh's shape", arguments: NFTLayout.setNames)
    func setShape(name: String) {
        let s = NFTLayout.makeSet(name, id: 1)
        defer { nftnl_set_free(s) }
        var buf = [CChar](repeating: 0, count: 4096)
        let shape = buf.withUnsafeMutableBufferPointer { p -> NFTLayout.SetShape in
            let nlh = nftnl_nlmsg_build_hdr(p.baseAddress, NFTSocket.messageType(NFT_MSG_NEWSET), NFTLayout.family, 0, 1)!
            nftnl_set_nlmsg_build_payload(nlh, s)
            let back = nftnl_set_alloc()!
            defer { nftnl_set_free(back) }
            _ = nftnl_set_nlmsg_parse(nlh, back)
            return NFTLayout.SetShape(flags: nftnl_set_get_u32(back, nftAttr(NFTNL_SET_FLAGS)),
                                      keyType: nftnl_set_get_u32(back, nftAttr(NFTNL_SET_KEY_TYPE)),
                                      keyLength: nftnl_set_get_u32(back, nftAttr(NFTNL_SET_KEY_LEN)),
                                      dataLength: nftnl_set_get_u32(back, nftAttr(NFTNL_SET_DATA_LEN)))
        }
        #expect(shape == NFTLayout.shape(of: name))
    }
}
