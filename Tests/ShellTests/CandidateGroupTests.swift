import Testing
import TestSupport
import Firewall
import IPVS
import LVSModel
@testable import Shell
import Engine

/// Group changes in the candidate go through `PortGroupIndex`: the same results and the same messages as
/// checking each change against all groups (`GroupChange.apply`, what the candidate did before), and the
/// same marks as `PortGroupRules.allocateMark(excluding: marksInUse)`.
@Suite struct CandidateGroupTests {
    static func e(_ a: String?, _ p: L4Protocol, _ r: ClosedRange<UInt16>) -> PortGroupEntry {
        PortGroupEntry(address: a.map { IPAddress($0)! }, protocol: p, ports: r)
    }

    static func candidate(_ groups: [PortGroup]) -> Candidate {
        Candidate(table: IPVSTable(), daemons: [], timeouts: .kernelDefault, groups: groups, readSysctl: { _ in nil })
    }

    /// What checking against all groups answers: the groups after, or the message.
    static func reference(_ change: GroupChange, _ groups: [String: PortGroup]) -> Result<[String: PortGroup], LVSError> {
        do throws(LVSError) {
            let (after, _) = try GroupChange.apply([change], to: Array(groups.values))
            return .success(Dictionary(uniqueKeysWithValues: after.map { ($0.name, $0) }))
        } catch {
            return .failure(error)
        }
    }

    static let start = [
        PortGroup(name: "web", mark: 1000, entries: [e("192.168.61.129", .tcp, 80...80), e("192.168.61.129", .tcp, 443...443),
                                                     e("2001:db8::80", .tcp, 8000...8100)]),
        PortGroup(name: "dns", mark: 16, entries: [e(nil, .udp, 53...53)]),
        PortGroup(name: "ranges", mark: 1001, entries: [e("10.0.0.1", .tcp, 1000...2000)]),
    ]

    static let refusals: [GroupChange] = [
        .put(PortGroup(name: "api", mark: 2, entries: [e("192.168.61.129", .tcp, 443...444)])),
        .put(PortGroup(name: "x", mark: 3, entries: [e(nil, .tcp, 8000...8000)])),
        .put(PortGroup(name: "x", mark: 3, entries: [e("10.0.0.7", .udp, 50...60), e("10.0.0.1", .tcp, 1500...1500)])),
        .put(PortGroup(name: "x", mark: 3, entries: [e("10.9.9.9", .tcp, 1...5), e("10.9.9.9", .tcp, 5...5)])),
        .put(PortGroup(name: "x", mark: 16, entries: [])),
        .put(PortGroup(name: "x", mark: 0, entries: [])),
        .put(PortGroup(name: "_x", mark: 3, entries: [])),
        .put(PortGroup(name: "web", mark: 16, entries: [])),
        .addEntries(group: "web", [e("10.0.0.1", .tcp, 500...3000)]),
        .addEntries(group: "web", [e("192.168.61.129", .tcp, 80...80)]),
        .addEntries(group: "web", [e("10.0.0.9", .tcp, 9...9), e("10.0.0.9", .tcp, 9...9)]),
        .addEntries(group: "dns", [e(nil, .tcp, 440...450)]),
        .addEntries(group: "nosuch", [e("10.0.0.1", .tcp, 1...1)]),
        .deleteEntries(group: "dns", [e("192.168.61.129", .tcp, 80...80)]),
        .deleteEntries(group: "ranges", [e("10.0.0.1", .tcp, 1000...1500)]),
        .delete(group: "nosuch"),
    ]

    @Test("refused changes give the messages of the check against all groups, and change nothing", arguments: refusals)
    func refusal(_ change: GroupChange) {
        var c = Self.candidate(Self.start)
        let before = c.groups
        guard case .failure(let expected) = Self.reference(change, before) else {
            Issue.record("the reference accepts \(change)")
            return
        }
        #expect(throws: expected) { try c.apply(change, "change") }
        #expect(c.groups == before)
        // The candidate still takes what fits.
        #expect(throws: Never.self) { try c.apply(.put(PortGroup(name: "late", mark: 5, entries: [Self.e("10.5.5.5", .tcp, 80...80)])), "late") }
    }


    @Test("random changes: same groups, messages and allocated marks as the all-groups check",
          arguments: [11, 12, 13, 14] as [UInt64])
    func randomChanges(seed: UInt64) throws {
        var rng = SeededGenerator(state: seed)
        let addresses: [String?] = [nil, "10.0.0.1", "10.0.0.2", "2001:db8::1"]
        func entry() -> PortGroupEntry {
            let low = UInt16.random(in: 0...50, using: &rng)
            return Self.e(addresses.randomElement(using: &rng)!, [.tcp, .udp].randomElement(using: &rng)!,
                          low...(low + UInt16.random(in: 0...3, using: &rng)))
        }
        var c = Self.candidate([])
        c.preferredMarks = ["g1": 1003]
        var reference: [String: PortGroup] = [:]
        for step in 0..<500 {
            let name = "g\(Int.random(in: 0..<10, using: &rng))"
            let entries = (0..<Int.random(in: 0...3, using: &rng)).map { _ in entry() }
            let change: GroupChange
            switch Int.random(in: 0..<12, using: &rng) {
            case 0..<5:
                // New marks as `group NAME ...` without `mark` picks them, now and as before.
                let expectedMark = PortGroupRules.allocateMark(excluding: c.marksInUse)
                #expect(c.allocateGroupMark() == expectedMark, "seed \(seed) step \(step)")
                let mark = reference[name]?.mark ?? (Bool.random(using: &rng) ? expectedMark : UInt32.random(in: 998...1012, using: &rng))
                change = .put(PortGroup(name: name, mark: mark, entries: entries))
            case 5..<8: change = .addEntries(group: name, entries)
            case 8: change = .deleteEntries(group: name, reference[name].map { Array($0.entries.prefix(1)) + entries.prefix(1) } ?? entries)
            case 9: change = .delete(group: name)
            default:
                // fwmark services take marks too.
                let key = ServiceKey.fwmark(UInt32.random(in: 1000...1010, using: &rng), .v4)
                if c.service(key) == nil {
                    try c.apply(.addService(VirtualService(key: key)), "add")
                } else {
                    try c.apply(.deleteService(key), "delete")
                }
                continue
            }
            let expected = Self.reference(change, reference)
            do throws(LVSError) {
                try c.apply(change, "change")
                guard case .success(let after) = expected else {
                    Issue.record("seed \(seed) step \(step): \(change) accepted, the reference refuses it")
                    return
                }
                reference = after
            } catch {
                guard case .failure(let message) = expected else {
                    Issue.record("seed \(seed) step \(step): \(change) refused (\(error.message)), the reference accepts it")
                    return
                }
                #expect(error == message, "seed \(seed) step \(step)")
            }
            #expect(c.groups == reference, "seed \(seed) step \(step)")
            for g in reference.values { #expect(c.group(forMark: g.mark) == g) }
        }
    }
}
