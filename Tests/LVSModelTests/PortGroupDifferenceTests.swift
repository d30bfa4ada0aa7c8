import LVSModel
import Testing

/// What re-defining a group removes and adds, port by port, and its wording.
struct PortGroupDifferenceTests {
    func entries(_ spec: [(String?, L4Protocol, ClosedRange<UInt16>)]) -> [PortGroupEntry] {
        spec.map { s in PortGroupEntry(address: s.0.flatMap { IPAddress($0) }, protocol: s.1, ports: s.2) }
    }

    @Test func removedPortsAreTheOldOnesTheNewDoNotCover() {
        let old = entries([("192.0.2.1", .tcp, 80...80), ("192.0.2.1", .tcp, 443...443), (nil, .udp, 53...53)])
        let new = entries([("192.0.2.1", .tcp, 80...80), (nil, .udp, 53...53)])
        let removed = PortGroupDifference.entries(old, notIn: new)
        #expect(removed == entries([("192.0.2.1", .tcp, 443...443)]))
        #expect(PortGroupDifference.text(removed) == "tcp 443 on 192.0.2.1")
        #expect(PortGroupDifference.entries(new, notIn: old).isEmpty)
    }

    @Test func rangesAreCutToThePortsThatGo() {
        let old = entries([("192.0.2.1", .tcp, 8000...8100)])
        let new = entries([("192.0.2.1", .tcp, 8010...8020), ("192.0.2.1", .tcp, 8050...8100)])
        let removed = PortGroupDifference.entries(old, notIn: new)
        #expect(PortGroupDifference.text(removed) == "tcp 8000-8009,8021-8049 on 192.0.2.1")
        // An address is not `any`: they are different entries.
        let any = entries([(nil, .tcp, 80...80)]), one = entries([("192.0.2.1", .tcp, 80...80)])
        #expect(PortGroupDifference.text(PortGroupDifference.entries(any, notIn: one)) == "tcp 80 on any address")
    }

    @Test func addressesWithTheSamePortsShareAClauseAndLongListsAreCounted() {
        let many = (1...10).map { ("192.0.2.\($0)", L4Protocol.tcp, UInt16(443)...UInt16(443)) } + [("192.0.2.99", .udp, 53...53)]
        let text = PortGroupDifference.text(entries(many.map { ($0.0, $0.1, $0.2) }))
        #expect(text == "tcp 443 on 192.0.2.1, 192.0.2.2, 192.0.2.3, 192.0.2.4, 192.0.2.5, 192.0.2.6 and 4 more addresses; udp 53 on 192.0.2.99")
    }
}
