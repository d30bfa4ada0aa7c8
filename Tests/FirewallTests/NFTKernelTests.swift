import Foundation
import Testing
@testable import Firewall
import LVSModel

/// NFTablesBackend against the machine's own kernel, each test in a fresh network namespace, checked
/// by `nft` itself.
@Suite(.enabled(if: NFTLab.available, "needs root and nft"))
struct NFTKernelTests {
    static func e(_ a: String?, _ p: L4Protocol, _ r: ClosedRange<UInt16>) -> PortGroupEntry {
        PortGroupEntry(address: a.map { IPAddress($0)! }, protocol: p, ports: r)
    }

    static let web = PortGroup(name: "web", mark: 1000, entries: [
        e("192.168.61.129", .tcp, 80...80), e("192.168.61.129", .tcp, 443...443), e("2001:db8::80", .tcp, 8000...8100),
    ])
    static let dns = PortGroup(name: "dns", mark: 1001, entries: [e(nil, .udp, 53...53), e(nil, .tcp, 53...53)])
    static let spare = PortGroup(name: "spare", mark: 1002, entries: [])

    /// What `nft list table inet lvsh` prints for web and dns (the README shows the same). The hash
    /// maps list in hash order: compare with `sameListing`.
    static let listing = """
        table inet lvsh {
        	comment "lvsh port groups: marks by address . protocol . port; single ports in *_ports, ranges in *_ranges; names in @groups"
        	set groups {
        		type mark
        		elements = { 0x000003e8 comment "web", 0x000003e9 comment "dns" }
        	}

        	map v4_ports {
        		type ipv4_addr . inet_proto . inet_service : mark
        		elements = { 192.168.61.129 . tcp . 80 : 0x000003e8,
        			     192.168.61.129 . tcp . 443 : 0x000003e8 }
        	}

        	map v4_ranges {
        		type 0 : mark
        		flags interval
        		comment "port ranges: ipv4_addr . inet_proto . inet_service as one 96-bit integer; `lvsh show groups` decodes them"
        	}

        	map v6_ports {
        		type ipv6_addr . inet_proto . inet_service : mark
        	}

        	map v6_ranges {
        		type 0 : mark
        		flags interval
        		comment "port ranges: ipv6_addr . inet_proto . inet_service as one 192-bit integer; `lvsh show groups` decodes them"
        		elements = { 784738630688389519664169805931287698284351220387806183424-784738630688389519664169805931287698284351220387812737024 : 0x000003e8 }
        	}

        	map any_ports {
        		type inet_proto . inet_service : mark
        		elements = { tcp . 53 : 0x000003e9,
        			     udp . 53 : 0x000003e9 }
        	}

        	map any_ranges {
        		type 0 : mark
        		flags interval
        		comment "port ranges: inet_proto . inet_service as one 64-bit integer; `lvsh show groups` decodes them"
        	}

        	chain prerouting {
        		type filter hook prerouting priority mangle; policy accept;
        		meta mark set ip daddr . meta l4proto . th dport map @v4_ports
        		meta mark set ip daddr . meta l4proto . th dport map @v4_ranges
        		meta mark set ip6 daddr . meta l4proto . th dport map @v6_ports
        		meta mark set ip6 daddr . meta l4proto . th dport map @v6_ranges
        		meta mark set meta l4proto . th dport map @any_ports
        		meta mark set meta l4proto . th dport map @any_ranges
        	}

        	chain output {
        		type route hook output priority mangle; policy accept;
        		meta mark set ip daddr . meta l4proto . th dport map @v4_ports
        		meta mark set ip daddr . meta l4proto . th dport map @v4_ranges
        		meta mark set ip6 daddr . meta l4proto . th dport map @v6_ports
        		meta mark set ip6 daddr . meta l4proto . th dport map @v6_ranges
        		meta mark set meta l4proto . th dport map @any_ports
        		meta mark set meta l4proto . th dport map @any_ranges
        	}
        }

        """

    /// Whether two listings are the same but for the order of elements (a hash map's order is the
    /// kernel's): their lines with the `elements = {` and the separators taken off, as multisets.
    static func sameListing(_ a: String, _ b: String) -> Bool {
        func lines(_ text: String) -> [String] {
            text.split(separator: "\n", omittingEmptySubsequences: false).map { line in
                var l = line.trimmingCharacters(in: .whitespaces)
                if l.hasPrefix("elements = { ") { l.removeFirst("elements = { ".count) }
                if l.hasSuffix(" }") && l.contains(" : ") { l.removeLast(2) }
                if l.hasSuffix(",") { l.removeLast() }
                return l
            }.sorted()
        }
        return lines(a) == lines(b)
    }

    func setUp() throws -> (NFTTestNamespace, NFTablesBackend) {
        let ns = try NFTTestNamespace()
        return (ns, try NFTablesBackend(networkNamespace: ns.path))
    }

    func generation(_ ns: NFTTestNamespace) throws -> UInt32 {
        try NFTSocket(networkNamespace: ns.path).generation()
    }

    @Test("two groups give exactly the intended table, and lvsh reads back what it wrote")
    func layoutAndReadBack() throws {
        let (ns, nft) = try setUp()
        let applied = try nft.update { _ in [.put(Self.web), .put(Self.dns)] }
        #expect(applied == [.put(Self.web), .put(Self.dns)])
        #expect(Self.sameListing(try ns.nft("list table inet lvsh"), Self.listing))
        #expect(try nft.rulesText() == Self.listing, "`show rules` renders what nft lists")
        let witness = NFTWitness(ns: ns)
        #expect(try witness.mapElements() == NFTWitness.expectedElements([Self.web, Self.dns]))
        #expect(try witness.names() == [1000: "web", 1001: "dns"])
        #expect(try witness.ruleCounts() == ["prerouting": 6, "output": 6])
        let sortedDNS = PortGroup(name: "dns", mark: 1001, entries: Self.dns.entries.sorted())
        #expect(try nft.groups() == [sortedDNS, Self.web])
        // A second backend (another lvsh process) sees the same: no side file, the kernel is the state.
        #expect(try NFTablesBackend(networkNamespace: ns.path).groups() == [sortedDNS, Self.web])
    }

    @Test("the skeleton is created once, with the first group; an empty group survives; the last group's removal leaves the skeleton")
    func skeletonAndEmptyGroups() throws {
        let (ns, nft) = try setUp()
        _ = try nft.update { _ in [.put(Self.spare)] }
        // BEGIN, table, 7 sets, 2 chains, 12 rules, the name element, END.
        #expect(nft.lastBatch?.messages == 25)
        #expect(try nft.groups() == [Self.spare])
        _ = try nft.update { _ in [.put(Self.web)] }
        #expect(nft.lastBatch?.messages == 5, "BEGIN, v4_ports adds, v6_ranges adds, the name, END: nothing re-created")
        _ = try nft.update { _ in [.delete(group: "spare"), .delete(group: "web")] }
        #expect(try nft.groups() == [])
        #expect(try NFTWitness(ns: ns).ruleCounts() == ["prerouting": 6, "output": 6])
        #expect(try NFTWitness(ns: ns).mapElements() == NFTWitness.expectedElements([]))
    }

    @Test("a ruleset change between plan and commit is refused (ERESTART) and the update re-plans")
    func replansAfterConcurrentChange() throws {
        let (ns, nft) = try setUp()
        var calls = 0
        let applied = try nft.update { (groups: [PortGroup]) throws(LVSError) -> [GroupChange] in
            calls += 1
            if calls == 1 {
                // Another program commits while lvsh is planning.
                do { try ns.nft("add table inet other") } catch { Issue.record(error) }
            }
            return [.put(PortGroup(name: "web", mark: 1000 + UInt32(groups.count), entries: Self.web.entries))]
        }
        #expect(calls == 2 && nft.lastAttempts == 2)
        #expect(applied.count == 1)
        #expect(try nft.groups() == [Self.web])
        #expect(try ns.nft("list tables").contains("table inet other"))
    }

    @Test("an update gives up with a clear error when the ruleset keeps changing, having applied nothing")
    func givesUp() throws {
        let (ns, nft) = try setUp()
        var calls = 0
        #expect {
            _ = try nft.update { (_: [PortGroup]) throws(LVSError) -> [GroupChange] in
                calls += 1
                do { try ns.nft("add table inet busy\(calls)") } catch { Issue.record(error) }
                return [.put(Self.web)]
            }
        } throws: { error in
            (error as? LVSError)?.message.contains("changed \(NFTablesBackend.maxAttempts) times") == true
        }
        #expect(calls == NFTablesBackend.maxAttempts)
        #expect(try !ns.nft("list tables").contains("inet lvsh"))
    }

    @Test("other tables are never touched")
    func othersUntouched() throws {
        let (ns, nft) = try setUp()
        try ns.nft("""
            -f - <<'EOF'
            table inet other {
              set s { type ipv4_addr; elements = { 1.2.3.4 }; }
              chain c { type filter hook input priority 0; tcp dport 22 counter accept; }
            }
            table ip foo { chain bar { type filter hook forward priority 0; ip saddr 10.0.0.0/8 drop; }; }
            EOF
            """)
        let before = try ns.nft("-j list table inet other") + ns.nft("-j list table ip foo")
        _ = try nft.update { _ in [.put(Self.web), .put(Self.dns)] }
        _ = try nft.update { _ in [.addEntries(group: "web", [Self.e("10.1.1.1", .udp, 9...9)]), .delete(group: "dns")] }
        _ = try nft.update { _ in [.put(PortGroup(name: "web", mark: 4242, entries: [Self.e(nil, .sctp, 1...9)]))] }
        try nft.removeTable()
        #expect(try ns.nft("-j list table inet other") + ns.nft("-j list table ip foo") == before)
        #expect(try ns.nft("list tables") == "table inet other\ntable ip foo\n")
    }

    /// Adds then deletes one entry in a group of `size` entries; returns both batches.
    func oneEntryBatches(size: Int) throws -> (add: NFTBatchStats, delete: NFTBatchStats) {
        let (ns, nft) = try setUp()
        let entries = (0..<size).map { (i: Int) -> PortGroupEntry in
            let port = UInt16(1000 + i % 7)
            let proto: L4Protocol = i % 2 == 0 ? .tcp : .udp
            return Self.e("10.0.\(i / 250).\(i % 250 + 1)", proto, port...port)
        }
        _ = try nft.update { _ in [.put(PortGroup(name: "big", mark: 1000, entries: entries))] }
        #expect(try nft.groups().first?.entries.count == size)
        let extra = Self.e("10.99.0.1", .tcp, 80...81)
        _ = try nft.update { _ in [.addEntries(group: "big", [extra])] }
        let add = try #require(nft.lastBatch)
        _ = try nft.update { _ in [.deleteEntries(group: "big", [extra])] }
        let delete = try #require(nft.lastBatch)
        #expect(try NFTWitness(ns: ns).mapElements()["v4_ports"]?.count == size)
        return (add, delete)
    }

    @Test("adding or deleting one entry sends one small transaction whatever the group's size")
    func oneEntryIsSmall() throws {
        let small = try oneEntryBatches(size: 100)
        let large = try oneEntryBatches(size: 5000)
        print("one-entry batches: 100 entries add \(small.add) delete \(small.delete); 5,000 entries add \(large.add) delete \(large.delete)")
        #expect(small == large)
        #expect(large.add.messages == 3 && large.delete.messages == 3)
        #expect(large.add.bytes < 200 && large.delete.bytes < 200)
    }

    @Test("bad input never reaches the kernel")
    func badInputStaysOut() throws {
        let (ns, nft) = try setUp()
        _ = try nft.update { _ in [.put(Self.web), .put(Self.dns)] }
        let before = try ns.nft("-j list ruleset"), gen = try generation(ns)
        let bad: [[GroupChange]] = [
            [.put(PortGroup(name: "x", mark: 5, entries: [Self.e("192.168.61.129", .tcp, 443...444)]))],
            [.addEntries(group: "web", [Self.e(nil, .udp, 53...53)])],
            [.put(PortGroup(name: "ok", mark: 7, entries: [])), .deleteEntries(group: "web", [Self.e(nil, .tcp, 1...1)])],
            [.put(PortGroup(name: "dup", mark: 1000, entries: []))],
        ]
        for changes in bad {
            #expect(throws: LVSError.self) { _ = try nft.update { _ in changes } }
            #expect(nft.lastBatch == nil)
        }
        #expect(try ns.nft("-j list ruleset") == before)
        #expect(try generation(ns) == gen)
    }

    @Test("marks can be swapped between groups in one transaction")
    func swapMarks() throws {
        let (ns, nft) = try setUp()
        _ = try nft.update { _ in [.put(Self.web), .put(Self.dns)] }
        var web = Self.web, dns = Self.dns
        (web.mark, dns.mark) = (dns.mark, web.mark)
        dns.entries.sort()
        _ = try nft.update { _ in [.put(web), .put(dns)] }
        #expect(try nft.groups() == [dns, web])
        #expect(try NFTWitness(ns: ns).names() == [1001: "web", 1000: "dns"])
        #expect(try NFTWitness(ns: ns).mapElements() == NFTWitness.expectedElements([web, dns]))
    }

    @Test("elements added with nft under an unknown mark show as group mark-N and can be deleted")
    func orphans() throws {
        let (ns, nft) = try setUp()
        _ = try nft.update { _ in [.put(Self.web)] }
        try ns.nft("add element inet lvsh v4_ports '{ 10.9.9.9 . tcp . 22 : 77 }'")
        #expect(try nft.groups().map(\.name) == ["mark-77", "web"])
        _ = try nft.update { _ in [.delete(group: "mark-77")] }
        #expect(try nft.groups() == [Self.web])
    }

    @Test("an object with lvsh's name but another shape is reported, not written into",
          arguments: ["v4", "v4_ports", "any_ranges"])
    func foreignShape(set: String) throws {
        let (ns, nft) = try setUp()
        try ns.nft("'add table inet lvsh; add set inet lvsh \(set) { type ipv4_addr; }'")
        #expect {
            _ = try nft.update { _ in [.put(Self.web)] }
        } throws: { error in
            (error as? LVSError)?.message.contains("set \(set) that lvsh did not make") == true
        }
    }

    /// Table inet lvsh as an earlier lvsh wrote it, groups web and dns and an element of mark 77 that
    /// `@groups` does not name; `.addressFirst` (the first lvsh) with a prerouting chain only.
    static func earlierTable(_ order: NFTKeyOrder) -> String {
        /// Both chains of an earlier lvsh whose keys began with `ports` (port and protocol in its order).
        func earlierChains(_ ports: String) -> String {
            let rules = "meta mark set \(ports) . ip daddr map @v4\n    meta mark set \(ports) . ip6 daddr map @v6\n"
                + "    meta mark set \(ports) map @any"
            return "chain prerouting { type filter hook prerouting priority mangle; policy accept;\n    \(rules)\n  }\n"
                + "  chain output { type route hook output priority mangle; policy accept;\n    \(rules)\n  }"
        }
        switch order {
        case .portFirst:
            return """
                table inet lvsh {
                  comment "lvsh port groups: marks by port . protocol . address; group names in @groups"
                  set groups { type mark; elements = { 1000 comment "web", 1001 comment "dns" }; }
                  map v4 { type inet_service . inet_proto . ipv4_addr : mark; flags interval;
                    elements = { 80 . tcp . 192.168.61.129 : 1000, 443 . tcp . 192.168.61.129 : 1000, 22 . tcp . 10.9.9.9 : 77 }; }
                  map v6 { type inet_service . inet_proto . ipv6_addr : mark; flags interval; elements = { 8000-8100 . tcp . 2001:db8::80 : 1000 }; }
                  map any { type inet_service . inet_proto : mark; flags interval; elements = { 53 . tcp : 1001, 53 . udp : 1001 }; }
                \(earlierChains("th dport . meta l4proto"))
                }
                """
        case .protocolFirst:
            return """
                table inet lvsh {
                  comment "lvsh port groups: marks by protocol . port . address; group names in @groups"
                  set groups { type mark; elements = { 1000 comment "web", 1001 comment "dns" }; }
                  map v4 { type inet_proto . inet_service . ipv4_addr : mark; flags interval;
                    elements = { tcp . 80 . 192.168.61.129 : 1000, tcp . 443 . 192.168.61.129 : 1000, tcp . 22 . 10.9.9.9 : 77 }; }
                  map v6 { type inet_proto . inet_service . ipv6_addr : mark; flags interval; elements = { tcp . 8000-8100 . 2001:db8::80 : 1000 }; }
                  map any { type inet_proto . inet_service : mark; flags interval; elements = { tcp . 53 : 1001, udp . 53 : 1001 }; }
                \(earlierChains("meta l4proto . th dport"))
                }
                """
        case .addressFirst:
            return """
                table inet lvsh {
                  set groups { type mark; elements = { 1000 comment "web", 1001 comment "dns" }; }
                  map v4 { type ipv4_addr . inet_proto . inet_service : mark; flags interval;
                    elements = { 192.168.61.129 . tcp . 80 : 1000, 192.168.61.129 . tcp . 443 : 1000, 10.9.9.9 . tcp . 22 : 77 }; }
                  map v6 { type ipv6_addr . inet_proto . inet_service : mark; flags interval; elements = { 2001:db8::80 . tcp . 8000-8100 : 1000 }; }
                  map any { type inet_proto . inet_service : mark; flags interval; elements = { tcp . 53 : 1001, udp . 53 : 1001 }; }
                  chain prerouting { type filter hook prerouting priority mangle; meta mark set ip daddr . meta l4proto . th dport map @v4; }
                }
                """
        }
    }

    @Test("a table from an earlier lvsh is read in its own key order and replaced whole by the next change, in one transaction",
          arguments: [NFTKeyOrder.portFirst, .protocolFirst, .addressFirst])
    func earlierLayout(order: NFTKeyOrder) throws {
        let orphan = PortGroup(name: "mark-77", mark: 77, entries: [Self.e("10.9.9.9", .tcp, 22...22)])
        var dns = Self.dns
        dns.entries.sort()
        for viaEdit in [false, true] {
            let (ns, nft) = try setUp()
            try ns.nft("-f - <<'EOF'\n\(Self.earlierTable(order))\nEOF")
            #expect(try nft.groups() == [dns, orphan, Self.web])
            let before = try ns.nft("-j list ruleset"), gen = try generation(ns)
            #expect(try nft.holdsGroups())
            #expect(try ns.nft("-j list ruleset") == before, "reading changes nothing")

            // The next change: an entry edit (which leaves the fast path) or a new group.
            var web = Self.web
            if viaEdit {
                _ = try nft.apply([.addEntries(group: "web", [Self.e("192.168.61.129", .tcp, 81...81)])])
                #expect(!nft.lastApplyWasFast)
                web.entries = (web.entries + [Self.e("192.168.61.129", .tcp, 81...81)]).sorted()
            } else {
                _ = try nft.update { _ in [.put(Self.spare)] }
            }
            #expect(try generation(ns) == gen + 1, "one transaction")
            let groups = try nft.groups()
            #expect(groups == (viaEdit ? [dns, orphan, web] : [dns, orphan, Self.spare, web]))
            #expect(try NFTWitness(ns: ns).names() == (viaEdit ? [1000: "web", 1001: "dns"] : [1000: "web", 1001: "dns", 1002: "spare"]),
                    "the orphan mark stays unnamed")
            #expect(try NFTWitness(ns: ns).mapElements() == NFTWitness.expectedElements(groups))
            #expect(try NFTWitness(ns: ns).ruleCounts() == ["prerouting": 6, "output": 6])
            let listing = try ns.nft("list table inet lvsh")
            #expect(listing.contains("map v4_ports {\n\t\ttype ipv4_addr . inet_proto . inet_service : mark"))
            #expect(listing.contains(NFTLayout.tableComment))
            #expect(!listing.contains("map v4 {") && !listing.contains("th dport . meta l4proto") && !listing.contains("meta l4proto . th dport . ip"))
            // Now today's layout: edits take the fast path again.
            _ = try nft.apply([.addEntries(group: "web", [Self.e("192.168.61.129", .tcp, 82...82)])])
            #expect(nft.lastApplyWasFast)
        }
    }

    @Test("today's layout with the whole table, rendered by lvsh (`show rules`), is what nft lists after a replacement")
    func replacementListsLikeAFreshTable() throws {
        let (ns, nft) = try setUp()
        try ns.nft("-f - <<'EOF'\n\(Self.earlierTable(.portFirst))\nEOF")
        _ = try nft.update { _ in [.delete(group: "mark-77")] }
        #expect(Self.sameListing(try ns.nft("list table inet lvsh"), Self.listing))
        #expect(try nft.rulesText() == Self.listing)
    }

    @Test("the kernel's refusal of an element names the entry and its group")
    func elementErrorsNameTheEntry() throws {
        let (ns, nft) = try setUp()
        _ = try nft.update { _ in [.put(Self.web)] }
        let socket = try NFTSocket(networkNamespace: ns.path)
        func commit(adding: Bool, _ entries: [PortGroupEntry]) throws -> LVSError? {
            let batch = NFTBatch(generation: nil, firstSequence: socket.nextSequence)
            batch.appendEntries(entries.map { NFTEntryElement(entry: $0, mark: 1000) }, adding: adding, groupName: { _ in "web" })
            batch.end()
            socket.advance(through: batch.sequences.upperBound)
            guard case .failure(.failed(let e)) = batch.outcome(of: try socket.send(batch), explain: NFTErrors.refused) else { return nil }
            return e
        }
        let fresh = (1...300).map { Self.e("10.7.\($0 / 250).\($0 % 250)", .tcp, 80...80) }
        let exists = try commit(adding: true, fresh + [Self.web.entries[1]])
        #expect(exists?.message.hasPrefix("cannot add entry '192.168.61.129 tcp 443' of group web") == true, "\(String(describing: exists))")
        let missing = try commit(adding: false, [Self.web.entries[0], Self.e("10.7.7.7", .udp, 1...2)])
        #expect(missing?.message.hasPrefix("cannot delete entry '10.7.7.7 udp 1-2' of group web") == true, "\(String(describing: missing))")
        #expect(try nft.groups() == [Self.web], "refused batches change nothing")
    }

    @Test("the availability probe answers true and leaves no trace")
    func probe() throws {
        let ns = try NFTTestNamespace()
        let before = try ns.nft("list ruleset"), gen = try generation(ns)
        #expect(NFTablesBackend.isAvailable(networkNamespace: ns.path))
        #expect(try ns.nft("list ruleset") == before)
        #expect(try generation(ns) == gen)
    }

    @Test("20,000 entries in three of the maps (ranges, single ports, address-less) go in one batch and come back exactly")
    func largeRoundTrip() throws {
        let (ns, nft) = try setUp()
        var a = PortGroup(name: "a", mark: 1, entries: []), b = PortGroup(name: "b", mark: 2, entries: [])
        for i in 0..<8000 { a.entries.append(Self.e("172.16.\(i / 200).\(i % 200)", .tcp, UInt16(i % 50 * 10)...UInt16(i % 50 * 10 + 3))) }
        for i in 0..<8000 { b.entries.append(Self.e("fd00::\(String(i, radix: 16))", .udp, 5000...5000)) }
        for i in 0..<4000 { b.entries.append(Self.e(nil, .sctp, UInt16(i * 2)...UInt16(i * 2))) }
        _ = try nft.update { _ in [.put(a), .put(b)] }
        a.entries.sort()
        b.entries.sort()
        #expect(try nft.groups() == [a, b])
        let counts = try NFTWitness(ns: ns).mapElements().mapValues(\.count)
        #expect(counts == ["v4_ports": 0, "v4_ranges": 8000, "v6_ports": 8000, "v6_ranges": 0, "any_ports": 4000, "any_ranges": 0])
        #expect(try nft.removeTable())
        #expect(try !nft.removeTable())
    }
}
