import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// lvsh's group commands through all three command-line faces, read back by `nft -j` and by lvsh.
@Suite(.enabled(if: CLILab.available, "needs root, ip, nft and the lvsh binary (swift build)"))
struct NFTGroupsCLITests {
    /// `nft -j list table inet lvsh` after `setUp`, handles left out, one object a line, keys and set
    /// elements sorted: the layout of Sources/Firewall/README.md with groups web (mark 1000: two IPv4
    /// ports and an IPv6 range, which nft shows as two numbers), dns (mark 0x10: `any` tcp and udp 53)
    /// and spare (empty, mark 1001).
    static let table = """
        {"table":{"family":"inet","name":"lvsh"}}
        {"set":{"elem":[{"elem":{"comment":"dns","val":16}},{"elem":{"comment":"spare","val":1001}},{"elem":{"comment":"web","val":1000}}],"family":"inet","name":"groups","table":"lvsh","type":"mark"}}
        {"map":{"elem":[[{"concat":["192.168.61.129","tcp",443]},1000],[{"concat":["192.168.61.129","tcp",80]},1000]],"family":"inet","map":"mark","name":"v4_ports","table":"lvsh","type":["ipv4_addr","inet_proto","inet_service"]}}
        {"map":{"comment":"port ranges: ipv4_addr . inet_proto . inet_service as one 96-bit integer; `lvsh show groups` decodes them","family":"inet","flags":["interval"],"map":"mark","name":"v4_ranges","table":"lvsh","type":"integer"}}
        {"map":{"family":"inet","map":"mark","name":"v6_ports","table":"lvsh","type":["ipv6_addr","inet_proto","inet_service"]}}
        {"map":{"comment":"port ranges: ipv6_addr . inet_proto . inet_service as one 192-bit integer; `lvsh show groups` decodes them","elem":[[{"range":["0x20010db8000000000000000000000080060000001f400000","0x20010db8000000000000000000000080060000001fa40000"]},1000]],"family":"inet","flags":["interval"],"map":"mark","name":"v6_ranges","table":"lvsh","type":"integer"}}
        {"map":{"elem":[[{"concat":["tcp",53]},16],[{"concat":["udp",53]},16]],"family":"inet","map":"mark","name":"any_ports","table":"lvsh","type":["inet_proto","inet_service"]}}
        {"map":{"comment":"port ranges: inet_proto . inet_service as one 64-bit integer; `lvsh show groups` decodes them","family":"inet","flags":["interval"],"map":"mark","name":"any_ranges","table":"lvsh","type":"integer"}}
        {"chain":{"family":"inet","hook":"prerouting","name":"prerouting","policy":"accept","prio":-150,"table":"lvsh","type":"filter"}}
        {"chain":{"family":"inet","hook":"output","name":"output","policy":"accept","prio":-150,"table":"lvsh","type":"route"}}
        {"rule":{"chain":"prerouting","expr":[{"mangle":{"key":{"meta":{"key":"mark"}},"value":{"map":{"data":"@v4_ports","key":{"concat":[{"payload":{"field":"daddr","protocol":"ip"}},{"meta":{"key":"l4proto"}},{"payload":{"field":"dport","protocol":"th"}}]}}}}}],"family":"inet","table":"lvsh"}}
        {"rule":{"chain":"prerouting","expr":[{"mangle":{"key":{"meta":{"key":"mark"}},"value":{"map":{"data":"@v4_ranges","key":{"concat":[{"payload":{"field":"daddr","protocol":"ip"}},{"meta":{"key":"l4proto"}},{"payload":{"field":"dport","protocol":"th"}}]}}}}}],"family":"inet","table":"lvsh"}}
        {"rule":{"chain":"prerouting","expr":[{"mangle":{"key":{"meta":{"key":"mark"}},"value":{"map":{"data":"@v6_ports","key":{"concat":[{"payload":{"field":"daddr","protocol":"ip6"}},{"meta":{"key":"l4proto"}},{"payload":{"field":"dport","protocol":"th"}}]}}}}}],"family":"inet","table":"lvsh"}}
        {"rule":{"chain":"prerouting","expr":[{"mangle":{"key":{"meta":{"key":"mark"}},"value":{"map":{"data":"@v6_ranges","key":{"concat":[{"payload":{"field":"daddr","protocol":"ip6"}},{"meta":{"key":"l4proto"}},{"payload":{"field":"dport","protocol":"th"}}]}}}}}],"family":"inet","table":"lvsh"}}
        {"rule":{"chain":"prerouting","expr":[{"mangle":{"key":{"meta":{"key":"mark"}},"value":{"map":{"data":"@any_ports","key":{"concat":[{"meta":{"key":"l4proto"}},{"payload":{"field":"dport","protocol":"th"}}]}}}}}],"family":"inet","table":"lvsh"}}
        {"rule":{"chain":"prerouting","expr":[{"mangle":{"key":{"meta":{"key":"mark"}},"value":{"map":{"data":"@any_ranges","key":{"concat":[{"meta":{"key":"l4proto"}},{"payload":{"field":"dport","protocol":"th"}}]}}}}}],"family":"inet","table":"lvsh"}}
        {"rule":{"chain":"output","expr":[{"mangle":{"key":{"meta":{"key":"mark"}},"value":{"map":{"data":"@v4_ports","key":{"concat":[{"payload":{"field":"daddr","protocol":"ip"}},{"meta":{"key":"l4proto"}},{"payload":{"field":"dport","protocol":"th"}}]}}}}}],"family":"inet","table":"lvsh"}}
        {"rule":{"chain":"output","expr":[{"mangle":{"key":{"meta":{"key":"mark"}},"value":{"map":{"data":"@v4_ranges","key":{"concat":[{"payload":{"field":"daddr","protocol":"ip"}},{"meta":{"key":"l4proto"}},{"payload":{"field":"dport","protocol":"th"}}]}}}}}],"family":"inet","table":"lvsh"}}
        {"rule":{"chain":"output","expr":[{"mangle":{"key":{"meta":{"key":"mark"}},"value":{"map":{"data":"@v6_ports","key":{"concat":[{"payload":{"field":"daddr","protocol":"ip6"}},{"meta":{"key":"l4proto"}},{"payload":{"field":"dport","protocol":"th"}}]}}}}}],"family":"inet","table":"lvsh"}}
        {"rule":{"chain":"output","expr":[{"mangle":{"key":{"meta":{"key":"mark"}},"value":{"map":{"data":"@v6_ranges","key":{"concat":[{"payload":{"field":"daddr","protocol":"ip6"}},{"meta":{"key":"l4proto"}},{"payload":{"field":"dport","protocol":"th"}}]}}}}}],"family":"inet","table":"lvsh"}}
        {"rule":{"chain":"output","expr":[{"mangle":{"key":{"meta":{"key":"mark"}},"value":{"map":{"data":"@any_ports","key":{"concat":[{"meta":{"key":"l4proto"}},{"payload":{"field":"dport","protocol":"th"}}]}}}}}],"family":"inet","table":"lvsh"}}
        {"rule":{"chain":"output","expr":[{"mangle":{"key":{"meta":{"key":"mark"}},"value":{"map":{"data":"@any_ranges","key":{"concat":[{"meta":{"key":"l4proto"}},{"payload":{"field":"dport","protocol":"th"}}]}}}}}],"family":"inet","table":"lvsh"}}
        """.split(separator: "\n").map(String.init)

    /// `show groups --json` for the same groups: DESIGN.md's frozen shape, groups by name, entries sorted.
    static let json = #"{"groups":[{"name":"dns","mark":16,"entries":[{"address":null,"protocol":"tcp","ports":[53,53]},{"address":null,"protocol":"udp","ports":[53,53]}]},{"name":"spare","mark":1001,"entries":[]},{"name":"web","mark":1000,"entries":[{"address":"192.168.61.129","protocol":"tcp","ports":[80,80]},{"address":"192.168.61.129","protocol":"tcp","ports":[443,443]},{"address":"2001:db8::80","protocol":"tcp","ports":[8000,8100]}]}]}"#

    /// The three faces, each doing part of the work: one command's words, `-c` with two commands
    /// (an entry edit and a group with a hex mark), and a batch file that creates, edits and removes.
    func setUp(_ ns: Netns) throws {
        let words = try ns.lvsh("group", "web", "vip", "192.168.61.129", "tcp", "80,443")
        #expect(words.status == 0, "\(words)")
        let c = try ns.lvsh("-c", "group web add vip 2001:db8::80 tcp 8000-8100; group dns vip any udp 53 tcp 53 mark 0x10")
        #expect(c.status == 0, "\(c)")
        let file = try ns.file("setup.lvsh", """
            # a batch file: comments, blank lines, continuation
            group spare
            group tmp vip 10.1.1.1 sctp 9

            group web add \\
                vip 192.168.61.129 tcp 8443
            group web del vip 192.168.61.129 tcp 8443
            no group tmp
            """)
        let f = try ns.lvsh("-f", file)
        #expect(f.status == 0, "\(f)")
    }

    static func sortedElements(_ lines: [String]) throws -> [String] {
        try lines.map { line in
            var object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
            for (kind, value) in object {
                guard var body = value as? [String: Any], let elems = body["elem"] as? [Any] else { continue }
                body["elem"] = elems.sorted { NFTJSON.line(["e": $0]) < NFTJSON.line(["e": $1]) }
                object[kind] = body
            }
            return NFTJSON.line(object)
        }
    }

    @Test("lvsh group / -c / -f write exactly the intended table, read back by nft -j")
    func writesReadBackByNFT() throws {
        let ns = try Netns()
        try setUp(ns)
        #expect(try Self.sortedElements(ns.lvshTable()) == Self.table)
        // nft 1.0.6 leaves the table's comment out of its JSON; the text shows it.
        #expect(try ns.sh("nft list table inet lvsh").contains(#"comment "lvsh port groups: marks by address . protocol . port; single ports in *_ports, ranges in *_ranges; names in @groups""#))
        // Nothing else in the namespace.
        #expect(try ns.sh("nft list tables") == "table inet lvsh\n")
    }

    @Test("lvsh reads back the groups it wrote: show groups --json is the frozen JSON, in every face")
    func showGroupsJSON() throws {
        let ns = try Netns()
        try setUp(ns)
        let forms = [try ns.lvsh("show", "groups", "--json"), try ns.lvsh("--json", "show", "groups"),
                     try ns.lvsh("show", "groups", "json"), try ns.lvsh("-c", "show groups json")]
        for r in forms {
            #expect(r.status == 0 && r.err.isEmpty, "\(r)")
            #expect(r.out == Self.json + "\n")
        }
        // The same as a reader of the frozen interface sees it.
        let parsed = try JSONSerialization.jsonObject(with: Data(forms[0].out.utf8)) as? [String: Any]
        let groups = parsed?["groups"] as? [[String: Any]] ?? []
        #expect(groups.map { $0["name"] as? String } == ["dns", "spare", "web"])
        #expect(groups.map { $0["mark"] as? Int } == [16, 1001, 1000])
        #expect((groups[0]["entries"] as? [[String: Any]])?.first?["address"] is NSNull)
        // The text form: commands that recreate the groups.
        let text = try ns.lvsh("show", "groups")
        #expect(text.out == """
            group dns vip any tcp 53 udp 53 mark 16
            group spare mark 1001
            group web vip 192.168.61.129 tcp 80,443 mark 1000
            group web add vip 2001:db8::80 tcp 8000-8100

            """)
    }

    @Test("show groups's text, fed back through -f into a fresh namespace, writes the same table")
    func textRoundTrip() throws {
        let ns = try Netns()
        try setUp(ns)
        let text = try ns.lvsh("show", "groups").out
        let other = try Netns()
        let r = try other.lvsh("-f", "-", input: text)
        #expect(r.status == 0, "\(r)")
        #expect(try Self.sortedElements(other.lvshTable()) == Self.table)
        #expect(try other.lvsh("show", "groups", "--json").out == Self.json + "\n")
    }

    @Test("no group removes groups; the last leaves the empty skeleton, which reads back as no groups")
    func noGroup() throws {
        let ns = try Netns()
        try setUp(ns)
        let r = try ns.lvsh("-c", "no group web; no group dns")
        #expect(r.status == 0, "\(r)")
        #expect(try ns.lvsh("show", "groups", "--json").out == #"{"groups":[{"name":"spare","mark":1001,"entries":[]}]}"# + "\n")
        #expect(try ns.lvsh("no", "group", "spare").status == 0)
        #expect(try ns.lvsh("show", "groups", "--json").out == #"{"groups":[]}"# + "\n")
        let maps = try ns.lvshTable().filter { $0.hasPrefix(#"{"map""#) || $0.hasPrefix(#"{"set""#) }
        #expect(maps.allSatisfy { !$0.contains(#""elem""#) }, "\(maps)")
        #expect(maps.count == 7)
    }

    @Test("tables of others, created first, are never touched (nft -j list ruleset minus table inet lvsh)")
    func othersUntouched() throws {
        let ns = try Netns()
        // Other tables in every family, one named lvsh in another family, and one with a similar name.
        try ns.sh("""
            nft -f - <<'EOF'
            table inet other {
              set s { type ipv4_addr; elements = { 1.2.3.4 }; }
              map m { type ipv4_addr . inet_proto . inet_service : mark; flags interval; elements = { 10.0.0.1 . tcp . 80 : 5 }; }
              chain c { type filter hook prerouting priority mangle; meta mark set ip daddr . meta l4proto . th dport map @m; }
            }
            table ip lvsh {
              chain pre { type filter hook prerouting priority -150; tcp dport 80 counter; }
            }
            table ip6 lvsh {
              set groups { type mark; elements = { 1000 }; }
            }
            table inet lvsh2 {
              chain output { type route hook output priority mangle; meta mark set 7; }
            }
            table bridge br {
              chain c { type filter hook forward priority 0; counter; }
            }
            table netdev nd {
            }
            EOF
            """)
        let before = try ns.rulesetOfOthers()
        #expect(before.count > 10)
        try setUp(ns)
        for command in ["group web add vip 10.0.0.1 tcp 80", "group web del vip 10.0.0.1 tcp 80",
                        "group web vip 10.2.2.2 udp 100-1000 mark 4242", "group web add vip any sctp 7",
                        "no group dns", "no group web", "no group spare"] {
            let r = try ns.lvsh("-c", command)
            #expect(r.status == 0, "\(command): \(r)")
        }
        // Bad input and refusals do not touch them either.
        #expect(try ns.lvsh("-c", "group x vip 10.0.0.1 tcp 80 mark 4242; group y vip 10.0.0.1 tcp 80").status == 2)
        #expect(try ns.rulesetOfOthers() == before)
    }

    @Test("a change made with nft between lvsh's plan and its commit is detected: lvsh re-reads before committing")
    func concurrentChange() throws {
        // lvsh plans the whole batch against the state it read first, then commits it; the executor's
        // test hook (LVSH_PAUSE_BEFORE_STEP) stops it after committing group a and before group b.
        // In that window nft changes the table: a harmless change is kept and b goes in; a
        // conflicting one makes the commit of b fail (exit 1), and lvsh undoes a.
        let script = "group a vip 10.0.0.1 tcp 1-1500; group b vip 10.0.0.2 tcp 80"
        for conflicting in [false, true] {
            let ns = try Netns()
            let nftChange = conflicting
                ? "nft add element inet lvsh v4_ports '{ 10.0.0.2 . tcp . 80 : 77 }'"
                : "nft add table inet other; nft add element inet lvsh v4_ports '{ 10.0.0.3 . tcp . 80 : 77 }'"
            let r = try Self.runPausedAfterFirstStep(ns, script) { try ns.sh(nftChange) }
            let groups = try ns.lvsh("show", "groups").out
            if conflicting {
                #expect(r.status == 1, "\(r)")
                #expect(r.err.contains("-c:1:"), "\(r)")
                #expect(r.err.contains("group b: '10.0.0.2 tcp 80' overlaps '10.0.0.2 tcp 80' of group mark-77"), "\(r)")
                #expect(r.err.contains("The changes already made were undone"), "\(r)")
                #expect(groups == "group mark-77 vip 10.0.0.2 tcp 80 mark 77\n", "group a undone, nft's element kept")
            } else {
                #expect(r.status == 0, "\(r)")
                #expect(groups.contains("group b vip 10.0.0.2 tcp 80 mark 1001\n"), "\(groups)")
                #expect(groups.contains("group mark-77 vip 10.0.0.3 tcp 80 mark 77\n"), "nft's element kept: \(groups)")
                #expect(groups.hasPrefix("group a vip 10.0.0.1 tcp 1-1500"))
                #expect(try ns.sh("nft list tables").contains("table inet other"))
            }
        }
    }

    /// Runs `lvsh -c script` paused before its second step (LVSH_PAUSE_BEFORE_STEP=2) and runs
    /// `change` once the first group is in the kernel.
    static func runPausedAfterFirstStep(_ ns: Netns, _ script: String, change: () throws -> Void) throws -> CLILab.Result {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["LVSH_PAUSE_BEFORE_STEP=2:5", "ip", "netns", "exec", ns.name, CLILab.lvsh, "-c", script]
        p.environment = CLILab.environment()
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        p.standardInput = FileHandle.nullDevice
        try p.run()
        var committed = false
        for _ in 0..<200 where !committed {
            committed = (try? ns.sh("nft list set inet lvsh groups"))?.contains(#"comment "a""#) == true
            if !committed { usleep(50_000) }
        }
        #expect(committed, "group a never reached the kernel")
        #expect(p.isRunning, "lvsh should be paused before group b")
        try change()
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return CLILab.Result(status: p.terminationStatus, out: String(decoding: outData, as: UTF8.self),
                             err: String(decoding: errData, as: UTF8.self))
    }
}
