import Foundation
import Testing
@testable import Firewall
import LVSModel

/// NFTablesBackend.apply's fast path for entry edits (NFTablesBackend+Edits.swift) on the machine's own
/// kernel, each test in a fresh network namespace: its cost does not grow with the groups, and what it
/// refuses is still reported exactly as `update` reports it.
@Suite(.enabled(if: NFTLab.available, "needs root and nft"))
struct NFTEditTests {
    static func e(_ a: String?, _ p: L4Protocol, _ r: ClosedRange<UInt16>) -> PortGroupEntry {
        PortGroupEntry(address: a.map { IPAddress($0)! }, protocol: p, ports: r)
    }

    /// Groups big (`size` IPv4 entries, mark 1000), dns (`any` udp 53, mark 16) and ranges (mark 1001).
    func setUp(size: Int) throws -> (NFTTestNamespace, NFTablesBackend) {
        let ns = try NFTTestNamespace()
        let nft = try NFTablesBackend(networkNamespace: ns.path)
        let entries = (0..<size).map { i in Self.e("10.\(i / 62500).\(i / 250 % 250).\(i % 250 + 1)", .tcp, 443...443) }
        _ = try nft.update { _ in [
            .put(PortGroup(name: "big", mark: 1000, entries: entries)),
            .put(PortGroup(name: "dns", mark: 16, entries: [Self.e(nil, .udp, 53...53)])),
            .put(PortGroup(name: "ranges", mark: 1001, entries: [Self.e("10.200.0.1", .tcp, 1000...2000)])),
        ] }
        return (ns, nft)
    }

    /// Messages and bytes one call sent, and bytes it received, on the backend's socket.
    struct Traffic: Equatable, CustomStringConvertible {
        var messages: Int, bytes: Int, received: Int
        var description: String { "\(messages) messages, \(bytes) bytes sent, \(received) bytes received" }
    }

    func traffic(_ nft: NFTablesBackend, _ body: () throws -> Void) rethrows -> Traffic {
        let (m, b, r) = (nft.socket.sentMessages, nft.socket.sentBytes, nft.socket.receivedBytes)
        try body()
        return Traffic(messages: nft.socket.sentMessages - m, bytes: nft.socket.sentBytes - b, received: nft.socket.receivedBytes - r)
    }

    /// Adds then deletes one single-port entry and one range in a group of `size` entries.
    func editCosts(size: Int) throws -> [Traffic] {
        let (ns, nft) = try setUp(size: size)
        var costs: [Traffic] = []
        for entry in [Self.e("10.250.0.1", .tcp, 80...80), Self.e("10.250.0.1", .udp, 8000...8015)] {
            costs.append(try traffic(nft) { _ = try nft.apply([.addEntries(group: "big", [entry])]) })
            #expect(nft.lastApplyWasFast && nft.lastBatch?.messages == 3)
            costs.append(try traffic(nft) { _ = try nft.apply([.deleteEntries(group: "big", [entry])]) })
            #expect(nft.lastApplyWasFast && nft.lastBatch?.messages == 3)
        }
        #expect(try NFTWitness(ns: ns).mapElements()["v4_ports"]?.count == size)
        #expect(try NFTWitness(ns: ns).mapElements()["v4_ranges"] == ["10.200.0.1 tcp 1000-2000=1001"])
        return costs
    }

    @Test("adding or deleting one entry reads and sends the same at 100 and at 20,000 entries")
    func constantCost() throws {
        let small = try editCosts(size: 100)
        let large = try editCosts(size: 20_000)
        print("entry edits at 100 entries: \(small)\nat 20,000: \(large)")
        #expect(small == large)
        // What `update` would have read for the same edit: every element.
        let (_, nft) = try setUp(size: 20_000)
        let full = try traffic(nft) { _ = try nft.update { _ in [.addEntries(group: "big", [Self.e("10.250.0.1", .tcp, 80...80)])] } }
        print("the same add through update: \(full)")
        #expect(full.received > 50 * large[0].received)
    }

    @Test("what the fast path refuses is reported exactly as update reports it, and nothing is applied",
          arguments: [
            // A range enclosing a held range: the port probe finds it.
            ([GroupChange.addEntries(group: "big", [e("10.200.0.1", .tcp, 500...3000)])],
             "group big: '10.200.0.1 tcp 500-3000' overlaps '10.200.0.1 tcp 1000-2000' of group ranges"),
            // An end inside a held range.
            ([.addEntries(group: "big", [e("10.200.0.1", .tcp, 2000...2001)])],
             "group big: '10.200.0.1 tcp 2000-2001' overlaps '10.200.0.1 tcp 1000-2000' of group ranges"),
            // A single port inside a held range, and a range over a held single port: the two maps of a
            // family, which the kernel checks separately.
            ([.addEntries(group: "big", [e("10.200.0.1", .tcp, 1500...1500)])],
             "group big: '10.200.0.1 tcp 1500' overlaps '10.200.0.1 tcp 1000-2000' of group ranges"),
            ([.addEntries(group: "ranges", [e("10.0.0.1", .tcp, 440...450)])],
             "group ranges: '10.0.0.1 tcp 440-450' overlaps '10.0.0.1 tcp 443' of group big"),
            // An exact duplicate in another group (EEXIST) and in the same group.
            ([.addEntries(group: "ranges", [e("10.0.0.1", .tcp, 443...443)])],
             "group ranges: '10.0.0.1 tcp 443' overlaps '10.0.0.1 tcp 443' of group big"),
            ([.addEntries(group: "big", [e("10.0.0.1", .tcp, 443...443)])],
             "group big already has the entry '10.0.0.1 tcp 443'"),
            // Across maps, which the kernel cannot see.
            ([.addEntries(group: "big", [e("10.9.9.9", .udp, 50...60)])],
             "group big: '10.9.9.9 udp 50-60' overlaps 'any udp 53' of group dns"),
            ([.addEntries(group: "dns", [e(nil, .tcp, 400...500)])],
             "group dns: 'any tcp 400-500' overlaps '10.0.0.1 tcp 443' of group big"),
            // Among the new entries themselves.
            ([.addEntries(group: "big", [e("10.9.9.9", .tcp, 1...5)]), .addEntries(group: "ranges", [e(nil, .tcp, 5...5)])],
             "group big: '10.9.9.9 tcp 1-5' overlaps 'any tcp 5' of group ranges"),
            // Deleting another group's entry: the kernel would delete it whatever its mark.
            ([.deleteEntries(group: "dns", [e("10.0.0.1", .tcp, 443...443)])],
             "group dns has no entry '10.0.0.1 tcp 443'"),
            ([.deleteEntries(group: "ranges", [e("10.200.0.1", .tcp, 1000...1500)])],
             "group ranges has no entry '10.200.0.1 tcp 1000-1500'"),
            ([.addEntries(group: "nosuch", [e("10.9.9.9", .tcp, 1...1)])],
             "there is no group nosuch; create it first"),
          ])
    func refusals(_ changes: [GroupChange], _ message: String) throws {
        let (ns, nft) = try setUp(size: 300)
        let before = try ns.nft("-j list ruleset")
        let generation = try NFTSocket(networkNamespace: ns.path).generation()
        #expect {
            _ = try nft.apply(changes)
        } throws: { error in
            let e = error as? LVSError
            return e?.code == .badInput && e?.message.hasPrefix(message) == true
        }
        #expect(!nft.lastApplyWasFast)
        #expect(try ns.nft("-j list ruleset") == before)
        #expect(try NFTSocket(networkNamespace: ns.path).generation() == generation, "the port probe commits nothing")
    }

    @Test("an edit that passes the fast path's checks lands exactly; a range's probe commits nothing")
    func applies() throws {
        let (ns, nft) = try setUp(size: 10)
        let generation = try NFTSocket(networkNamespace: ns.path).generation()
        _ = try nft.apply([.addEntries(group: "ranges", [Self.e("10.200.0.1", .tcp, 2001...3000), Self.e("10.200.0.1", .tcp, 1...999)]),
                           .deleteEntries(group: "big", [Self.e("10.0.0.1", .tcp, 443...443)])])
        #expect(nft.lastApplyWasFast)
        #expect(try NFTSocket(networkNamespace: ns.path).generation() == generation &+ 1, "one transaction")
        let groups = try nft.groups()
        #expect(groups.first { $0.name == "ranges" }?.entries
            == [Self.e("10.200.0.1", .tcp, 1...999), Self.e("10.200.0.1", .tcp, 1000...2000), Self.e("10.200.0.1", .tcp, 2001...3000)])
        #expect(groups.first { $0.name == "big" }?.entries.count == 9)
        let maps = try NFTWitness(ns: ns).mapElements()
        let v4 = (maps["v4_ports"] ?? []) + (maps["v4_ranges"] ?? [])
        #expect(v4.contains("10.200.0.1 tcp 2001-3000=1001") && !v4.contains("10.0.0.1 tcp 443=1000"))
    }

    @Test("changes the fast path does not take go through update and still work")
    func notFast() throws {
        let (_, nft) = try setUp(size: 10)
        let x = Self.e("10.9.9.9", .tcp, 1...1)
        // Added and deleted in one transaction: update nets them out.
        _ = try nft.apply([.addEntries(group: "big", [x]), .deleteEntries(group: "big", [x])])
        #expect(!nft.lastApplyWasFast && nft.lastBatch == nil)
        _ = try nft.apply([.put(PortGroup(name: "new", mark: 5, entries: [x]))])
        #expect(!nft.lastApplyWasFast)
        #expect(try nft.groups().map(\.name) == ["big", "dns", "new", "ranges"])
    }

    @Test("a commit by another program between the fast path's read and its batch: refused (ERESTART), read again")
    func concurrentCommit() throws {
        let (ns, nft) = try setUp(size: 10)
        var commits = 0
        // Harmless: the edit goes in on the second attempt.
        nft.fastPathWillCommit = {
            commits += 1
            if commits == 1 { _ = try? ns.nft("add table inet other") }
        }
        _ = try nft.apply([.addEntries(group: "big", [Self.e("10.9.9.9", .tcp, 1...1)])])
        #expect(nft.lastApplyWasFast && nft.lastAttempts == 2)
        #expect(try ns.nft("list tables").contains("table inet other"))
        // Conflicting: nft takes the port first; the second attempt finds it and reports it.
        commits = 0
        nft.fastPathWillCommit = {
            commits += 1
            if commits == 1 { _ = try? ns.nft("add element inet lvsh v4_ports '{ 10.9.9.9 . tcp . 2 : 77 }'") }
        }
        #expect {
            _ = try nft.apply([.addEntries(group: "big", [Self.e("10.9.9.9", .tcp, 2...2)])])
        } throws: { error in
            (error as? LVSError)?.message.hasPrefix("group big: '10.9.9.9 tcp 2' overlaps '10.9.9.9 tcp 2' of group mark-77") == true
        }
        #expect(try nft.groups().first { $0.name == "mark-77" }?.entries == [Self.e("10.9.9.9", .tcp, 2...2)])
    }
}
