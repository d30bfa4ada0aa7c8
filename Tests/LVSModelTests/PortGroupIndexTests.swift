import Testing
import TestSupport
import LVSModel

/// `PortGroupIndex`: the per-(protocol, address) interval index that checks one group against all others
/// in O(k log n), against the all-pairs `PortGroupRules.check(_:against:)`.
@Suite struct PortGroupIndexTests {
    static func e(_ a: String?, _ p: L4Protocol, _ r: ClosedRange<UInt16>) -> PortGroupEntry {
        PortGroupEntry(address: a.map { IPAddress($0)! }, protocol: p, ports: r)
    }

    static func g(_ name: String, _ mark: UInt32, _ entries: PortGroupEntry...) -> PortGroup {
        PortGroup(name: name, mark: mark, entries: entries)
    }

    /// The all-pairs answer: whether `group` may join (or replace its namesake in) `groups`.
    static func pairwise(_ group: PortGroup, _ groups: [PortGroup]) -> Bool {
        (try? PortGroupRules.check(group, against: groups)) != nil
    }

    struct Case: CustomTestStringConvertible, Sendable {
        var label: String
        var existing: [PortGroup]
        var new: PortGroup
        var accepted: Bool
        var testDescription: String { label }
    }

    static let cases: [Case] = [
        Case(label: "same protocol, address and port", existing: [g("web", 1, e("10.0.0.1", .tcp, 80...80))],
             new: g("api", 2, e("10.0.0.1", .tcp, 80...80)), accepted: false),
        Case(label: "same port, other protocol", existing: [g("web", 1, e("10.0.0.1", .tcp, 80...80))],
             new: g("api", 2, e("10.0.0.1", .udp, 80...80)), accepted: true),
        Case(label: "same port, other address", existing: [g("web", 1, e("10.0.0.1", .tcp, 80...80))],
             new: g("api", 2, e("10.0.0.2", .tcp, 80...80)), accepted: true),
        Case(label: "any over an address", existing: [g("web", 1, e("10.0.0.1", .tcp, 80...80))],
             new: g("api", 2, e(nil, .tcp, 80...80)), accepted: false),
        Case(label: "an address under any", existing: [g("dns", 1, e(nil, .udp, 53...53))],
             new: g("api", 2, e("10.0.0.7", .udp, 50...60)), accepted: false),
        Case(label: "any over an address, other protocol", existing: [g("web", 1, e("10.0.0.1", .tcp, 80...80))],
             new: g("api", 2, e(nil, .sctp, 80...80)), accepted: true),
        Case(label: "any and any", existing: [g("dns", 1, e(nil, .udp, 53...53))],
             new: g("api", 2, e(nil, .udp, 40...53)), accepted: false),
        Case(label: "any range enclosing an addressed entry", existing: [g("web", 1, e("10.0.0.1", .tcp, 500...500))],
             new: g("api", 2, e(nil, .tcp, 1...1000)), accepted: false),
        Case(label: "addressed range enclosing an any entry", existing: [g("dns", 1, e(nil, .tcp, 500...500))],
             new: g("api", 2, e("10.0.0.1", .tcp, 1...1000)), accepted: false),
        Case(label: "ranges touching (sharing port 90)", existing: [g("web", 1, e("10.0.0.1", .tcp, 80...90))],
             new: g("api", 2, e("10.0.0.1", .tcp, 90...100)), accepted: false),
        Case(label: "ranges touching from above", existing: [g("web", 1, e("10.0.0.1", .tcp, 90...100))],
             new: g("api", 2, e("10.0.0.1", .tcp, 80...90)), accepted: false),
        Case(label: "ranges adjacent (89 and 90)", existing: [g("web", 1, e("10.0.0.1", .tcp, 80...89))],
             new: g("api", 2, e("10.0.0.1", .tcp, 90...100), e("10.0.0.1", .tcp, 70...79)), accepted: true),
        Case(label: "range enclosing a range", existing: [g("web", 1, e("10.0.0.1", .tcp, 1000...2000))],
             new: g("api", 2, e("10.0.0.1", .tcp, 500...3000)), accepted: false),
        Case(label: "range between two ranges", existing: [g("web", 1, e("10.0.0.1", .tcp, 10...20), e("10.0.0.1", .tcp, 30...40))],
             new: g("api", 2, e("10.0.0.1", .tcp, 21...29)), accepted: true),
        Case(label: "ports 0 and 65535", existing: [g("web", 1, e("10.0.0.1", .tcp, 0...0), e(nil, .udp, 65535...65535))],
             new: g("api", 2, e("10.0.0.1", .tcp, 1...65535), e("10.0.0.1", .udp, 0...65534)), accepted: true),
        Case(label: "v4 and v6, same port", existing: [g("web", 1, e("10.0.0.1", .tcp, 80...80))],
             new: g("api", 2, e("2001:db8::1", .tcp, 80...80)), accepted: true),
        Case(label: "v6, same address", existing: [g("web", 1, e("2001:db8::1", .tcp, 8000...8100))],
             new: g("api", 2, e("2001:db8::1", .tcp, 8100...8200)), accepted: false),
        Case(label: "any over a v6 address", existing: [g("web", 1, e("2001:db8::80", .tcp, 8000...8100))],
             new: g("x", 2, e(nil, .tcp, 8000...8000)), accepted: false),
        Case(label: "v4-mapped v6 is another address", existing: [g("web", 1, e("10.0.0.1", .tcp, 80...80))],
             new: g("api", 2, e("::ffff:10.0.0.1", .tcp, 80...80)), accepted: true),
        Case(label: "within one group", existing: [],
             new: g("web", 1, e("10.0.0.1", .tcp, 80...90), e("10.0.0.1", .tcp, 85...85)), accepted: false),
        Case(label: "within one group: any and an address", existing: [],
             new: g("web", 1, e("10.0.0.1", .tcp, 80...80), e(nil, .tcp, 80...80)), accepted: false),
        Case(label: "within one group: an entry twice", existing: [],
             new: g("web", 1, e("10.0.0.1", .tcp, 80...80), e("10.0.0.1", .tcp, 80...80)), accepted: false),
        Case(label: "across groups, with one of several", existing: [g("a", 1, e("10.0.0.1", .tcp, 1...1)), g("b", 2, e("10.0.0.2", .tcp, 2...2)),
                                                                      g("c", 3, e("10.0.0.3", .tcp, 3...3))],
             new: g("d", 4, e("10.0.0.4", .tcp, 2...2), e("10.0.0.2", .tcp, 1...5)), accepted: false),
        Case(label: "replacing a group that overlapped only itself",
             existing: [g("web", 1, e("10.0.0.1", .tcp, 80...80), e(nil, .udp, 53...53)), g("other", 2, e("10.0.0.1", .tcp, 81...81))],
             new: g("web", 1, e("10.0.0.1", .tcp, 70...80), e(nil, .udp, 50...60)), accepted: true),
        Case(label: "replacing a group, now overlapping another",
             existing: [g("web", 1, e("10.0.0.1", .tcp, 80...80)), g("other", 2, e("10.0.0.1", .tcp, 81...81))],
             new: g("web", 1, e("10.0.0.1", .tcp, 80...81)), accepted: false),
        Case(label: "a mark of another group", existing: [g("web", 7, e("10.0.0.1", .tcp, 80...80))],
             new: g("api", 7, e("10.0.0.1", .tcp, 81...81)), accepted: false),
        Case(label: "replacing a group with a new mark", existing: [g("web", 7, e("10.0.0.1", .tcp, 80...80))],
             new: g("web", 8, e("10.0.0.1", .tcp, 80...80)), accepted: true),
    ]

    @Test("table of overlaps, as the all-pairs check answers them", arguments: cases)
    func overlapCases(_ c: Case) {
        #expect(Self.pairwise(c.new, c.existing) == c.accepted, "the table disagrees with check(_:against:)")
        var index = PortGroupIndex(c.existing)
        #expect(index.isConsistent)
        let old = c.existing.first { $0.name == c.new.name }
        let ok1 = index.replace(old, with: c.new)
        #expect(ok1 == c.accepted)
        // Refused: the index is as it was, so the existing groups go back in after their removal.
        // Accepted: the new group is in it, and its entries are refused a second time under another name.
        if c.accepted {
            #expect(index.owner(ofMark: c.new.mark) == c.new.name)
            if !c.new.entries.isEmpty { let ok2 = index.insert(c.new.entries, of: "again"); #expect(!ok2) }
        } else {
            #expect(index.owner(ofMark: c.new.mark) == c.existing.first { $0.mark == c.new.mark }?.name)
            for g in c.existing { index.remove(g) }
            for g in c.existing { let ok3 = index.insert(g); #expect(ok3) }
        }
    }

    @Test("groups that already overlap make an inconsistent index, which refuses every change")
    func inconsistent() {
        var index = PortGroupIndex([Self.g("a", 1, Self.e("10.0.0.1", .tcp, 80...80)), Self.g("b", 2, Self.e(nil, .tcp, 80...80))])
        #expect(!index.isConsistent)
        let ok4 = index.insert(Self.g("c", 3, Self.e("10.9.9.9", .udp, 1...1)))
        #expect(!ok4)
        #expect(!PortGroupIndex([Self.g("a", 1), Self.g("b", 1)]).isConsistent, "one mark twice")
    }

    @Test("an `any` query after addressed entries came and went (the per-port counts follow them)")
    func coverageFollowsRemovals() {
        var index = PortGroupIndex()
        let web = Self.g("web", 1, Self.e("10.0.0.1", .tcp, 80...90), Self.e("10.0.0.2", .tcp, 85...95))
        let ok5 = index.insert(web)
        #expect(ok5)
        #expect(index.overlaps(Self.e(nil, .tcp, 95...100)), "builds the counts")
        #expect(!index.overlaps(Self.e(nil, .tcp, 96...100)))
        let ok6 = index.remove([Self.e("10.0.0.2", .tcp, 85...95)], of: "web")
        #expect(ok6)
        #expect(!index.overlaps(Self.e(nil, .tcp, 91...100)))
        #expect(index.overlaps(Self.e(nil, .tcp, 90...100)))
        let ok7 = index.remove([Self.e("10.0.0.1", .tcp, 80...89)], of: "web")
        #expect(!ok7, "not the entry as held")
        let ok8 = index.remove([Self.e("10.0.0.1", .tcp, 80...90)], of: "other")
        #expect(!ok8, "not that group's")
        index.remove(PortGroup(name: "web", mark: 1, entries: [Self.e("10.0.0.1", .tcp, 80...90)]))
        #expect(index.owner(ofMark: 1) == nil)
        let ok9 = index.insert(Self.g("dns", 1, Self.e(nil, .tcp, 0...65535)))
        #expect(ok9)
    }

    @Test("adding entries refuses duplicates and overlaps, and leaves the index as it was")
    func entryEdits() {
        var index = PortGroupIndex([Self.g("web", 1, Self.e("10.0.0.1", .tcp, 80...80))])
        let ok10 = index.insert([Self.e("10.0.0.1", .tcp, 443...443), Self.e("10.0.0.1", .tcp, 80...80)], of: "web")
        #expect(!ok10)
        #expect(!index.overlaps(Self.e("10.0.0.1", .tcp, 443...443)), "the first entry was taken back")
        let ok11 = index.insert([Self.e("10.0.0.1", .tcp, 443...443), Self.e("10.0.0.1", .tcp, 443...443)], of: "web")
        #expect(!ok11)
        let ok12 = index.insert([Self.e("10.0.0.1", .tcp, 443...443)], of: "web")
        #expect(ok12)
        let ok13 = index.remove([Self.e("10.0.0.1", .tcp, 443...443), Self.e("10.0.0.1", .tcp, 8443...8443)], of: "web")
        #expect(!ok13)
        #expect(index.overlaps(Self.e("10.0.0.1", .tcp, 443...443)), "the first removal was taken back")
    }

    // MARK: property


    @Test("agrees with the all-pairs check over random sequences of puts, entry edits and removals",
          arguments: [1, 2, 3, 4, 5, 6, 7, 8] as [UInt64])
    func agreesWithAllPairs(seed: UInt64) {
        var rng = SeededGenerator(state: seed)
        let addresses: [String?] = [nil, "10.0.0.1", "10.0.0.2", "2001:db8::1", "::1"]
        func entry() -> PortGroupEntry {
            let low = UInt16.random(in: 0...60, using: &rng)
            return Self.e(addresses.randomElement(using: &rng)!, [.tcp, .udp, .sctp].randomElement(using: &rng)!,
                          low...(low + UInt16.random(in: 0...4, using: &rng)))
        }
        var groups: [PortGroup] = []
        var index = PortGroupIndex()
        for step in 0..<600 {
            let name = "g\(Int.random(in: 0..<8, using: &rng))"
            let current = groups.firstIndex { $0.name == name }
            let context = "seed \(seed) step \(step): \(groups)"
            switch Int.random(in: 0..<10, using: &rng) {
            case 0..<5:
                // Put: a new group, or a replacement; marks from a small range so that some clash.
                let g = PortGroup(name: name, mark: UInt32.random(in: 1...10, using: &rng),
                                  entries: (0..<Int.random(in: 0...3, using: &rng)).map { _ in entry() })
                let expected = Self.pairwise(g, groups)
                let ok14 = index.replace(current.map { groups[$0] }, with: g)
                #expect(ok14 == expected, "\(context) put \(g)")
                if expected {
                    if let current { groups[current] = g } else { groups.append(g) }
                }
            case 5..<8:
                guard let current else { continue }
                var g = groups[current]
                let added = (0..<Int.random(in: 1...2, using: &rng)).map { _ in entry() }
                g.entries += added
                let expected = Set(g.entries).count == g.entries.count && Self.pairwise(g, groups)
                let ok15 = index.insert(added, of: name)
                #expect(ok15 == expected, "\(context) add \(added) to \(name)")
                if expected { groups[current] = g }
            case 8:
                guard let current else { continue }
                var g = groups[current]
                let gone = Bool.random(using: &rng) && !g.entries.isEmpty ? [g.entries.randomElement(using: &rng)!] : [entry()]
                let expected = g.entries.contains(gone[0])
                let ok16 = index.remove(gone, of: name)
                #expect(ok16 == expected, "\(context) delete \(gone) from \(name)")
                if expected {
                    g.entries.removeAll { $0 == gone[0] }
                    groups[current] = g
                }
            default:
                guard let current else { continue }
                index.remove(groups.remove(at: current))
            }
            // Every probe answers as the all-pairs check would for a one-entry group of a fresh name.
            let probe = entry()
            #expect(index.overlaps(probe) == !Self.pairwise(PortGroup(name: "probe", mark: 999, entries: [probe]), groups),
                    "\(context) probe \(probe)")
        }
        #expect(index.isConsistent)
        // The index as built whole equals the one built step by step.
        let whole = PortGroupIndex(groups)
        #expect(whole.isConsistent)
        for g in groups { #expect(index.owner(ofMark: g.mark) == g.name && whole.owner(ofMark: g.mark) == g.name) }
        for _ in 0..<200 {
            let probe = entry()
            #expect(whole.overlaps(probe) == index.overlaps(probe))
        }
    }

    @Test("agrees with the bulk check on random whole sets (seeded)")
    func agreesWithBulkCheck() {
        var rng = SeededGenerator(state: 42)
        let addresses: [String?] = [nil, "10.0.0.1", "10.0.0.2", "::1"]
        for _ in 0..<400 {
            let groups = (0..<4).map { g in
                PortGroup(name: "g\(g)", mark: UInt32(g + 1), entries: (0..<Int.random(in: 0...4, using: &rng)).map { _ in
                    let low = UInt16.random(in: 0...40, using: &rng)
                    return Self.e(addresses.randomElement(using: &rng)!, [.tcp, .udp].randomElement(using: &rng)!,
                                  low...(low + UInt16.random(in: 0...5, using: &rng)))
                })
            }
            let bulk = (try? PortGroupRules.check(groups, changed: Set(groups.map(\.name)))) != nil
            #expect(PortGroupIndex(groups).isConsistent == bulk, "\(groups)")
        }
    }
}
