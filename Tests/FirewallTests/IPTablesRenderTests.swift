import Testing
@testable import Firewall
import LVSModel

/// Sample groups shared by the iptables tests.
enum IPTSamples {
    static func entry(_ address: String?, _ proto: L4Protocol, _ ports: ClosedRange<UInt16>) -> PortGroupEntry {
        PortGroupEntry(address: address.map { IPAddress($0)! }, protocol: proto, ports: ports)
    }

    static let web = PortGroup(name: "web", mark: 1000, entries: [
        entry("192.168.61.129", .tcp, 443...443), entry("192.168.61.129", .tcp, 80...80),
    ])
    static let dns = PortGroup(name: "dns", mark: 1001, entries: [entry(nil, .udp, 53...53), entry(nil, .tcp, 53...53)])
    static let spare = PortGroup(name: "spare", mark: 1002, entries: [])
    static let v6 = PortGroup(name: "v6.app", mark: 0x2000, entries: [
        entry("2001:db8::10", .tcp, 8000...8100), entry("2001:db8::10", .sctp, 9000...9000),
    ])
    /// 20 single ports and 3 ranges for one address: 26 slots, more than one multiport rule holds.
    static let many = PortGroup(name: "many", mark: 7, entries:
        (1...20).map { entry("10.0.0.1", .tcp, UInt16(100 + $0)...UInt16(100 + $0)) }
        + [entry("10.0.0.1", .tcp, 1000...1999), entry("10.0.0.1", .tcp, 3000...3999), entry("10.0.0.1", .sctp, 0...65535)])

    static let all = [web, dns, spare, v6, many]
}

@Suite("iptables rendering")
struct IPTablesRenderTests {
    @Test("two groups render as iptables-save prints them")
    func sampleChain() {
        let rules = IPTablesRender.chain(for: [IPTSamples.web, IPTSamples.dns, IPTSamples.spare], family: .v4, generation: 1)
        #expect(rules.map(\.spec) == [
            #"-p tcp -m tcp --dport 53 -m comment --comment "lvsh:dns" -j MARK --set-xmark 0x3e9/0xffffffff"#,
            #"-p udp -m udp --dport 53 -m comment --comment "lvsh:dns" -j MARK --set-xmark 0x3e9/0xffffffff"#,
            #"-m comment --comment "lvsh:spare empty mark=0x3ea""#,
            #"-d 192.168.61.129/32 -p tcp -m multiport --dports 80,443 -m comment --comment "lvsh:web" -j MARK --set-xmark 0x3e8/0xffffffff"#,
            #"-m comment --comment "lvsh generation 1""#,
        ])
    }

    @Test("IPv6 entries go to ip6tables with /128; any entries to both; empty groups to IPv4 only")
    func families() {
        let v6 = IPTablesRender.rules(for: [IPTSamples.v6, IPTSamples.dns, IPTSamples.spare], family: .v6).map(\.spec)
        #expect(v6 == [
            #"-p tcp -m tcp --dport 53 -m comment --comment "lvsh:dns" -j MARK --set-xmark 0x3e9/0xffffffff"#,
            #"-p udp -m udp --dport 53 -m comment --comment "lvsh:dns" -j MARK --set-xmark 0x3e9/0xffffffff"#,
            #"-d 2001:db8::10/128 -p tcp -m tcp --dport 8000:8100 -m comment --comment "lvsh:v6.app" -j MARK --set-xmark 0x2000/0xffffffff"#,
            #"-d 2001:db8::10/128 -p sctp -m sctp --dport 9000 -m comment --comment "lvsh:v6.app" -j MARK --set-xmark 0x2000/0xffffffff"#,
        ])
        #expect(IPTablesRender.rules(for: [IPTSamples.v6], family: .v4).isEmpty)
    }

    @Test("more than 15 multiport slots split across rules; a full range prints as iptables-save does")
    func batching() {
        let specs = IPTablesRender.rules(for: [IPTSamples.many], family: .v4).map(\.spec)
        let tail = #" -m comment --comment "lvsh:many" -j MARK --set-xmark 0x7/0xffffffff"#
        #expect(specs == [
            "-d 10.0.0.1/32 -p tcp -m multiport --dports 101,102,103,104,105,106,107,108,109,110,111,112,113,114,115" + tail,
            "-d 10.0.0.1/32 -p tcp -m multiport --dports 116,117,118,119,120,1000:1999,3000:3999" + tail,
            "-d 10.0.0.1/32 -p sctp -m sctp" + tail,
        ])
    }

    @Test("batches hold at most 15 slots, a range taking two", arguments: [
        ([UInt16](repeating: 1, count: 15), [15]),
        ([UInt16](repeating: 1, count: 16), [15, 1]),
        ([UInt16](repeating: 2, count: 8), [7, 1]),
        ([2, 2, 2, 2, 2, 2, 2, 1] as [UInt16], [8]),
        ([1, 2, 2, 2, 2, 2, 2, 2, 1] as [UInt16], [8, 1]),
        ([UInt16](), []),
    ])
    func batchSizes(costs: [UInt16], expected: [Int]) {
        var port: UInt16 = 1
        let ranges = costs.map { cost -> ClosedRange<UInt16> in
            defer { port += 10 }
            return port...(port + cost - 1)
        }
        let batches = IPTablesRender.batches(ranges)
        #expect(batches.map(\.count) == expected)
        #expect(batches.allSatisfy { $0.reduce(0) { $0 + ($1.count == 1 ? 1 : 2) } <= 15 })
        #expect(batches.flatMap { $0 } == ranges)
    }

    @Test("names PortGroupRules refuses never reach a rule comment", arguments: [
        "web\" -j ACCEPT", "a b", "lvsh generation", "x;y", "über", "", "1web", String(repeating: "a", count: 65),
    ])
    func oddNames(name: String) {
        #expect(!PortGroupRules.isValidName(name))
        let group = PortGroup(name: name, mark: 5, entries: [])
        #expect(throws: LVSError.self) { try IPTablesBackend.groups(applying: [.put(group)], to: []) }
    }
}
