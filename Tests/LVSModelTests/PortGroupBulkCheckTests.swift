import Testing
import LVSModel

/// `PortGroupRules.check(_:changed:)`, the O(n log n) form of `check(_:against:)`.
@Suite struct PortGroupBulkCheckTests {
    static func e(_ a: String?, _ p: L4Protocol, _ r: ClosedRange<UInt16>) -> PortGroupEntry {
        PortGroupEntry(address: a.map { IPAddress($0)! }, protocol: p, ports: r)
    }

    func message(_ groups: [PortGroup], changed: Set<String>) -> String? {
        do {
            try PortGroupRules.check(groups, changed: changed)
            return nil
        } catch {
            return error.message
        }
    }

    @Test("same messages as check(_:against:) for each kind of conflict")
    func messages() {
        let web = PortGroup(name: "web", mark: 1000, entries: [Self.e("10.0.0.1", .tcp, 80...90), Self.e("10.0.0.1", .tcp, 85...85)])
        #expect(message([web], changed: ["web"]) == "group web: entries '10.0.0.1 tcp 80-90' and '10.0.0.1 tcp 85' overlap; list each port once")
        let a = PortGroup(name: "a", mark: 1, entries: [Self.e("10.0.0.1", .udp, 53...53)])
        let b = PortGroup(name: "b", mark: 2, entries: [Self.e(nil, .udp, 50...60)])
        #expect(message([a, b], changed: ["b"]) == "group b: 'any udp 50-60' overlaps '10.0.0.1 udp 53' of group a; a packet can carry only one mark, so remove the port from one of them")
        #expect(message([a, b], changed: ["a"]) == "group a: '10.0.0.1 udp 53' overlaps 'any udp 50-60' of group b; a packet can carry only one mark, so remove the port from one of them")
        let c = PortGroup(name: "c", mark: 1, entries: [])
        #expect(message([a, c], changed: ["c"]) == "group c: mark 1 is already used by group a; choose another mark or leave it out")
        #expect(message([a, b], changed: []) == nil, "only changed groups are checked")
        #expect(message([PortGroup(name: "_x", mark: 3, entries: [])], changed: ["_x"])?.contains("not valid") == true)
    }

    @Test("agrees with check(_:against:) on random groups")
    func agreesWithPairwiseCheck() {
        var rng = SystemRandomNumberGenerator()
        let addresses: [String?] = [nil, "10.0.0.1", "10.0.0.2", "::1"]
        for _ in 0..<500 {
            let groups = (0..<3).map { g in
                PortGroup(name: "g\(g)", mark: UInt32(g + 1), entries: (0..<Int.random(in: 0...4, using: &rng)).map { _ in
                    let low = UInt16.random(in: 0...40, using: &rng)
                    return Self.e(addresses.randomElement(using: &rng)!, [.tcp, .udp].randomElement(using: &rng)!,
                                  low...(low + UInt16.random(in: 0...5, using: &rng)))
                })
            }
            let changed = groups[Int.random(in: 0..<3, using: &rng)]
            var pairwise = true
            do { try PortGroupRules.check(changed, against: groups) } catch { pairwise = false }
            // The pairwise check also sees conflicts among unchanged groups only through `changed`;
            // restrict the comparison to inputs whose other groups are clean among themselves.
            let others = groups.filter { $0.name != changed.name }
            let othersClean = others.allSatisfy { g in
                (try? PortGroupRules.check(g, against: others)) != nil
            }
            guard othersClean else { continue }
            let bulk = message(groups, changed: [changed.name]) == nil
            #expect(bulk == pairwise, "\(groups)")
        }
    }

    @Test("100,000 entries are checked quickly (the pairwise check would compare 5e9 pairs)")
    func large() {
        let entries = (0..<100_000).map { i in
            Self.e("10.\(i / 65536).\(i / 256 % 256).\(i % 256)", .tcp, 80...80)
        }
        #expect(message([PortGroup(name: "big", mark: 1000, entries: entries)], changed: ["big"]) == nil)
    }
}
