import Testing
@testable import Firewall
import LVSModel

/// Planning: GroupChanges applied to the kernel's groups, then the smallest element diff.
@Suite struct NFTPlanTests {
    static func e(_ a: String?, _ p: L4Protocol = .tcp, _ ports: ClosedRange<UInt16>) -> PortGroupEntry {
        PortGroupEntry(address: a.map { IPAddress($0)! }, protocol: p, ports: ports)
    }

    static let web = PortGroup(name: "web", mark: 1000, entries: [e("10.0.0.1", .tcp, 80...80), e("10.0.0.1", .tcp, 443...443)])
    static let dns = PortGroup(name: "dns", mark: 1001, entries: [e(nil, .udp, 53...53)])
    static let names: [UInt32: String] = [1000: "web", 1001: "dns"]

    func plan(_ changes: [GroupChange], from current: [PortGroup] = [dns, web],
              names: [UInt32: String] = names) throws -> NFTElementPlan {
        let (desired, touched) = try GroupChange.apply(changes, to: current)
        return NFTPlanner.elements(from: current, names: names, to: desired, touched: touched)
    }

    @Test("adding one entry to a group adds exactly that element, whatever the group's size")
    func addOne() throws {
        var big = Self.web
        big.entries = (1...5000).map { Self.e("10.0.0.1", .tcp, UInt16($0)...UInt16($0)) }
        let p = try plan([.addEntries(group: "web", [Self.e("10.0.0.2", .udp, 5353...5353)])], from: [Self.dns, big])
        #expect(p == NFTElementPlan(entryAdds: [NFTEntryElement(entry: Self.e("10.0.0.2", .udp, 5353...5353), mark: 1000)]))
    }

    @Test("re-issuing a group with one port changed deletes and adds only that port")
    func putDiff() throws {
        var web = Self.web
        web.entries = [Self.e("10.0.0.1", .tcp, 80...80), Self.e("10.0.0.1", .tcp, 8443...8443)]
        let p = try plan([.put(web)])
        #expect(p.entryDeletes == [NFTEntryElement(entry: Self.e("10.0.0.1", .tcp, 443...443), mark: 1000)])
        #expect(p.entryAdds == [NFTEntryElement(entry: Self.e("10.0.0.1", .tcp, 8443...8443), mark: 1000)])
        #expect(p.nameAdds.isEmpty && p.nameDeletes.isEmpty)
    }

    @Test("a new mark re-marks every entry (delete and add in one batch) and renames the groups element")
    func markChange() throws {
        var web = Self.web
        web.mark = 2000
        let p = try plan([.put(web)])
        #expect(p.entryDeletes.count == 2 && p.entryAdds.count == 2)
        #expect(p.entryAdds.allSatisfy { $0.mark == 2000 })
        #expect(p.nameDeletes == [NFTNameElement(mark: 1000, name: "web")])
        #expect(p.nameAdds == [NFTNameElement(mark: 2000, name: "web")])
    }

    @Test("an entry moved from one group to another in one update is re-marked")
    func move() throws {
        let moved = Self.e("10.0.0.1", .tcp, 443...443)
        let p = try plan([.deleteEntries(group: "web", [moved]), .addEntries(group: "dns", [moved])])
        #expect(p.entryDeletes == [NFTEntryElement(entry: moved, mark: 1000)])
        #expect(p.entryAdds == [NFTEntryElement(entry: moved, mark: 1001)])
    }

    @Test("an empty group is only its groups element; deleting a group removes its elements and name")
    func emptyAndDelete() throws {
        let p = try plan([.put(PortGroup(name: "spare", mark: 1005, entries: []))])
        #expect(p == NFTElementPlan(nameAdds: [NFTNameElement(mark: 1005, name: "spare")]))
        let d = try plan([.delete(group: "web")])
        #expect(d.entryDeletes.count == 2 && d.entryAdds.isEmpty)
        #expect(d.nameDeletes == [NFTNameElement(mark: 1000, name: "web")])
    }

    @Test("a group found without a name (mark-N) can be deleted, or named by replacing it in one update")
    func orphan() throws {
        let orphan = PortGroup(name: "mark-77", mark: 77, entries: [Self.e("10.9.9.9", .tcp, 22...22)])
        let d = try plan([.delete(group: "mark-77")], from: [orphan], names: [:])
        #expect(d.nameDeletes.isEmpty && d.entryDeletes.count == 1)
        let r = try plan([.delete(group: "mark-77"), .put(PortGroup(name: "ssh", mark: 77, entries: orphan.entries))],
                         from: [orphan], names: [:])
        #expect(r.entryDeletes.isEmpty && r.entryAdds.isEmpty && r.nameAdds == [NFTNameElement(mark: 77, name: "ssh")])
    }

    @Test("re-issuing a group unchanged plans nothing")
    func noop() throws {
        #expect(try plan([.put(Self.web)]).isEmpty)
    }

    @Test("bad input is refused before anything is planned", arguments: [
        ([GroupChange.addEntries(group: "nope", [e(nil, .tcp, 1...1)])], "there is no group nope"),
        ([.delete(group: "nope")], "there is no group nope"),
        ([.addEntries(group: "web", [e("10.0.0.1", .tcp, 80...80)])], "group web already has the entry '10.0.0.1 tcp 80'"),
        ([.deleteEntries(group: "web", [e("10.0.0.1", .tcp, 81...81)])], "group web has no entry '10.0.0.1 tcp 81'"),
        ([.addEntries(group: "web", [e("10.0.0.1", .tcp, 79...85)])], "overlap"),
        ([.addEntries(group: "web", [e(nil, .udp, 50...60)])], "of group dns"),
        ([.put(PortGroup(name: "x", mark: 1000, entries: []))], "mark 1000 is already used by group web"),
        ([.put(PortGroup(name: "9x", mark: 5, entries: []))], "is not valid"),
        ([.put(PortGroup(name: "z", mark: 0, entries: []))], "mark 0"),
    ] as [([GroupChange], String)])
    func badInput(changes: [GroupChange], message: String) {
        #expect {
            _ = try plan(changes)
        } throws: { error in
            guard let e = error as? LVSError else { return false }
            return e.code == .badInput && e.message.contains(message)
        }
    }
}
