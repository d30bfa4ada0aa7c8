import Glibc
import Testing
@testable import Firewall
import LVSModel

/// The iptables backend against this machine's kernel, each test in a fresh network namespace
/// (see NetworkNamespace), witnessed by the flavour's own iptables-save.
@Suite("iptables backend on the kernel", .enabled(if: NetworkNamespace.isAvailable, "needs root and network namespaces"))
struct IPTablesKernelTests {
    /// The flavours that work on this kernel, probed in a fresh namespace: both on the machine's
    /// 6.18, only legacy in user-mode-linux (no nf_tables there).
    static let flavours: [IPTablesBackend.Flavour] = (try? NetworkNamespace.run {
        [IPTablesBackend.Flavour.legacy, .nft].filter { f in
            (try? ToolProcess.run(IPTablesTools(flavour: f, family: .v4).save, f == .nft ? ["-t", "mangle"] : []))?.status == 0
        }
    }) ?? []

    // MARK: helpers

    @discardableResult
    func tool(_ name: String, _ args: [String] = [], input: String? = nil) throws -> String {
        let r = try ToolProcess.run(name, args, input: input)
        guard r.status == 0 else { throw NetworkNamespace.Failure(description: "\(name) \(args): \(r.stderr)") }
        return r.stdout
    }

    /// Everything `iptables-save` shows for a family (all tables), without comment lines and with
    /// counters zeroed: the witness that lvsh left everything else alone.
    func saveAll(_ f: IPTablesBackend.Flavour, _ family: IPAddress.Family) throws -> [String] {
        try tool(IPTablesTools(flavour: f, family: family).save).split(separator: "\n").map(String.init)
            .filter { !$0.hasPrefix("#") }
            .map { $0.hasPrefix(":") ? String($0.prefix { $0 != "[" }) : $0 }
    }

    /// The save lines that are lvsh's: its chain, its rules and the jumps to it.
    func isLVSH(_ line: String) -> Bool {
        line.hasPrefix(":LVSH ") || line.hasPrefix("-A LVSH ")
            || IPTablesLayout.hooks.contains { line == "-A \($0) \(IPTablesLayout.jumpSpec)" }
    }

    /// lvsh's lines in `iptables-save -t mangle`, in order.
    func lvshLines(_ f: IPTablesBackend.Flavour, _ family: IPAddress.Family) throws -> [String] {
        try tool(IPTablesTools(flavour: f, family: family).save, ["-t", "mangle"]).split(separator: "\n").map(String.init).filter(isLVSH)
    }

    /// What lvsh's lines must be for `groups` at `generation`, jumps first as -I 1 puts them.
    func expectedLines(_ groups: [PortGroup], _ family: IPAddress.Family, generation: UInt64) -> [String] {
        let rules = IPTablesRender.chain(for: groups, family: family, generation: generation)
        if rules.isEmpty { return [] }
        return [":LVSH - [0:0]"] + IPTablesLayout.hooks.map { "-A \($0) \(IPTablesLayout.jumpSpec)" } + rules.map { "-A LVSH " + $0.spec }
    }

    /// Rules of other owners: in mangle a PREROUTING rule and a user chain FOO, and in filter one
    /// rule where the kernel has that table (user-mode-linux's lab loads only mangle).
    func addForeignRules(_ f: IPTablesBackend.Flavour) throws {
        for (family, addr) in [(IPAddress.Family.v4, "10.9.9.9/32"), (.v6, "2001:db8::9/128")] {
            let restore = IPTablesTools(flavour: f, family: family).restore
            try tool(restore, ["--noflush"], input: """
                *mangle
                :FOO - [0:0]
                -A PREROUTING -p tcp -m tcp --dport 22 -j MARK --set-xmark 0x7/0xffffffff
                -A OUTPUT -j FOO
                -A FOO -d \(addr) -j MARK --set-xmark 0x9/0xffffffff
                COMMIT

                """)
            _ = try? tool(restore, ["--noflush"], input: "*filter\n-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT\nCOMMIT\n")
        }
    }

    // MARK: tests

    @Test("writes exactly the intended chain, reads it back, leaves the rest alone", arguments: flavours)
    func writeAndReadBack(flavour: IPTablesBackend.Flavour) throws {
        try NetworkNamespace.run { () throws in
            try addForeignRules(flavour)
            let before = try [IPAddress.Family.v4, .v6].map { try saveAll(flavour, $0) }
            let backend = IPTablesBackend(flavour: flavour)
            #expect(try backend.groups() == [])

            let all = IPTablesBackend.normalized(IPTSamples.all)
            let applied = try backend.update { current throws(LVSError) in
                #expect(current == [])
                return IPTSamples.all.map { .put($0) }
            }
            #expect(applied.count == IPTSamples.all.count)
            for family in [IPAddress.Family.v4, .v6] {
                #expect(try lvshLines(flavour, family) == expectedLines(all, family, generation: 1))
            }
            // One line spelled out by hand, independent of the renderer.
            #expect(try lvshLines(flavour, .v4).contains(#"-A LVSH -d 192.168.61.129/32 -p tcp -m multiport --dports 80,443 -m comment --comment "lvsh:web" -j MARK --set-xmark 0x3e8/0xffffffff"#))
            // The jump is the first rule of PREROUTING, ahead of the rule that was there.
            let mangle = try tool(IPTablesTools(flavour: flavour, family: .v4).save, ["-t", "mangle"])
            #expect(mangle.split(separator: "\n").first { $0.hasPrefix("-A PREROUTING") } == "-A PREROUTING \(IPTablesLayout.jumpSpec)")
            for (i, family) in [IPAddress.Family.v4, .v6].enumerated() {
                #expect(try saveAll(flavour, family).filter { !isLVSH($0) } == before[i])
            }
            #expect(try backend.groups() == all)
            #expect(try IPTablesBackend().flavour() == flavour)
            #expect(try IPTablesBackend().groups() == all)

            // Replace one group, delete another, delete entries of a third.
            var web = IPTSamples.web
            web.entries.append(IPTSamples.entry("192.168.61.129", .tcp, 8080...8080))
            _ = try backend.update { _ throws(LVSError) in
                [.put(web), .delete(group: "many"), .deleteEntries(group: "dns", [IPTSamples.entry(nil, .udp, 53...53)])]
            }
            let next = try IPTablesBackend.groups(applying: [.put(web), .delete(group: "many"),
                                                             .deleteEntries(group: "dns", [IPTSamples.entry(nil, .udp, 53...53)])], to: all)
            #expect(try backend.groups() == next)
            for family in [IPAddress.Family.v4, .v6] {
                #expect(try lvshLines(flavour, family) == expectedLines(next, family, generation: 2))
            }

            // Bad input changes nothing at all.
            let snapshot = try [IPAddress.Family.v4, .v6].map { try saveAll(flavour, $0) }
            let clash = PortGroup(name: "clash", mark: 5, entries: [IPTSamples.entry(nil, .tcp, 443...443)])
            let error = #expect(throws: LVSError.self) { try backend.update { _ throws(LVSError) in [.put(clash)] } }
            #expect(error?.code == .badInput)
            #expect(try [IPAddress.Family.v4, .v6].map { try saveAll(flavour, $0) } == snapshot)

            // Deleting every group removes the chain and the jumps: everything is as before lvsh.
            _ = try backend.update { groups throws(LVSError) in groups.map { .delete(group: $0.name) } }
            for (i, family) in [IPAddress.Family.v4, .v6].enumerated() {
                #expect(try saveAll(flavour, family) == before[i])
            }
            #expect(try backend.groups() == [])
        }
    }

    /// Packets counted by a no-target rule `-m mark --mark MARK` in mangle POSTROUTING.
    func marked(_ mark: UInt32, _ f: IPAddress.Family, _ flavour: IPTablesBackend.Flavour) throws -> Int {
        let out = try tool(IPTablesTools(flavour: flavour, family: f).save, ["-c", "-t", "mangle"])
        let line = out.split(separator: "\n").first { $0.hasSuffix("-A POSTROUTING -m mark --mark \(IPTablesRule.hex(mark)) -m comment --comment witness") }
        return line.flatMap { Int($0.dropFirst().prefix { $0 != ":" }) } ?? -1
    }

    @Test("the rules mark real packets: the director's own, through OUTPUT", arguments: flavours)
    func marksPackets(flavour: IPTablesBackend.Flavour) throws {
        try NetworkNamespace.run { () throws in
            try tool("ip", ["link", "set", "lo", "up"])
            try tool("ip", ["addr", "add", "192.168.61.129/32", "dev", "lo"])
            try tool("ip", ["addr", "add", "2001:db8::10/128", "dev", "lo", "nodad"])
            _ = try IPTablesBackend(flavour: flavour).update { _ throws(LVSError) in
                [.put(IPTSamples.web), .put(IPTSamples.dns), .put(IPTSamples.v6)]
            }
            for (family, marks) in [(IPAddress.Family.v4, [1000, 1001]), (.v6, [1001, 0x2000])] {
                let witness = marks.map { "-A POSTROUTING -m mark --mark \(IPTablesRule.hex(UInt32($0))) -m comment --comment witness" }
                try tool(IPTablesTools(flavour: flavour, family: family).restore, ["--noflush"],
                         input: (["*mangle"] + witness + ["COMMIT", ""]).joined(separator: "\n"))
            }
            // bash's /dev/tcp and /dev/udp: a refused connect still sends its SYN through OUTPUT.
            func send(_ path: String) { _ = try? ToolProcess.run("bash", ["-c", "echo x >\(path)"]) }
            send("/dev/tcp/192.168.61.129/81")
            #expect(try marked(1000, .v4, flavour) == 0)
            send("/dev/tcp/192.168.61.129/443")
            #expect(try marked(1000, .v4, flavour) >= 1)
            send("/dev/udp/127.0.0.1/53")
            #expect(try marked(1001, .v4, flavour) == 1)
            send("/dev/udp/::1/53")
            #expect(try marked(1001, .v6, flavour) == 1)
            send("/dev/tcp/2001:db8::10/8050")
            #expect(try marked(0x2000, .v6, flavour) >= 1)
        }
    }

    @Test("a write based on a stale read fails whole and update re-plans", arguments: flavours)
    func concurrentWriter(flavour: IPTablesBackend.Flavour) throws {
        try NetworkNamespace.run { () throws in
            let backend = IPTablesBackend(flavour: flavour)
            _ = try backend.update { _ throws(LVSError) in [.put(IPTSamples.web)] }
            var seen: [[String]] = []
            _ = try backend.update { groups throws(LVSError) in
                seen.append(groups.map(\.name))
                // Another writer slips in between this read and the write.
                if seen.count == 1 { _ = try IPTablesBackend(flavour: flavour).update { _ throws(LVSError) in [.put(IPTSamples.dns)] } }
                return [.put(IPTSamples.spare)]
            }
            #expect(seen == [["web"], ["dns", "web"]])
            #expect(try backend.groups().map(\.name) == ["dns", "spare", "web"])
        }
    }

    @Test("a refused restore quotes its line, and the family written first is put back", arguments: flavours)
    func refusedRestore(flavour: IPTablesBackend.Flavour) throws {
        try NetworkNamespace.run { () throws in
            let backend = IPTablesBackend(flavour: flavour)
            _ = try backend.update { _ throws(LVSError) in [.put(IPTSamples.dns)] }   // any: both families
            let v4Before = try lvshLines(flavour, .v4)
            // A chain of someone else's jumps into LVSH in ip6tables only: removing LVSH there fails.
            try tool(IPTablesTools(flavour: flavour, family: .v6).restore, ["--noflush"],
                     input: "*mangle\n:BAR - [0:0]\n-A BAR -j LVSH\nCOMMIT\n")
            let error = #expect(throws: LVSError.self) { try backend.update { _ throws(LVSError) in [.delete(group: "dns")] } }
            #expect(error?.code == .failed)
            #expect(error?.message.contains("-X LVSH`") == true)
            #expect(error?.message.contains("put back") == true)
            #expect(try backend.groups() == [IPTSamples.dns].map { IPTablesBackend.normalized([$0])[0] })
            // The IPv4 chain is back with the same rules (a newer generation, as the rollback is a write).
            #expect(try lvshLines(flavour, .v4).dropLast() == v4Before.dropLast())
        }
    }

    @Test("a rule lvsh did not write in its chain is reported with the command that removes it", arguments: flavours)
    func foreignRule(flavour: IPTablesBackend.Flavour) throws {
        try NetworkNamespace.run { () throws in
            let backend = IPTablesBackend(flavour: flavour)
            _ = try backend.update { _ throws(LVSError) in [.put(IPTSamples.web)] }
            try tool(IPTablesTools(flavour: flavour, family: .v4).restore, ["--noflush"], input: "*mangle\n-A LVSH -s 10.0.0.0/8 -j ACCEPT\nCOMMIT\n")
            let error = #expect(throws: LVSError.self) { try backend.groups() }
            #expect(error?.message.contains("`\(IPTablesTools(flavour: flavour, family: .v4).command) -t mangle -D LVSH -s 10.0.0.0/8 -j ACCEPT`") == true)
        }
    }

    @Test("auto picks nft (if it works) on an empty namespace and legacy where legacy rules live; reading creates no legacy table")
    func detection() throws {
        try NetworkNamespace.run { () throws in
            #expect(try IPTablesBackend(flavour: .legacy).groups() == [])
            #expect(IPTablesDetection.legacyTables(.v4).isEmpty && IPTablesDetection.legacyTables(.v6).isEmpty)
            #expect(try IPTablesBackend().flavour() == (Self.flavours.contains(.nft) ? .nft : .legacy))
        }
        try NetworkNamespace.run { () throws in
            try addForeignRules(.legacy)
            #expect(try IPTablesBackend().flavour() == .legacy)
        }
        guard Self.flavours.contains(.nft) else { return }
        try NetworkNamespace.run { () throws in
            // Legacy tables exist but nft holds more rules (and lvsh's chain).
            try tool("iptables-legacy-restore", ["--noflush"], input: "*filter\n-A INPUT -j ACCEPT\nCOMMIT\n")
            _ = try IPTablesBackend(flavour: .nft).update { _ throws(LVSError) in [.put(IPTSamples.web)] }
            #expect(try IPTablesBackend().flavour() == .nft)
        }
    }
}
