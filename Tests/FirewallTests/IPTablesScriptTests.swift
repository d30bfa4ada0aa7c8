import Foundation
import Testing
@testable import Firewall
import LVSModel

@Suite("iptables-restore input")
struct IPTablesScriptTests {
    let web = IPTSamples.web
    let jump = IPTablesLayout.jumpSpec

    func state(_ groups: [PortGroup], generation: UInt64) -> IPTablesChainState {
        IPTablesSave.chainState(fromSave: simulatedSave(IPTablesRender.chain(for: groups, family: .v4, generation: generation)))
    }

    @Test("a missing chain is created, with both jumps inserted first")
    func create() {
        let script = IPTablesBackend.script(for: [web], over: IPTablesChainState(), family: .v4)
        #expect(script?.lines == [
            "*mangle",
            ":LVSH - [0:0]",
            "-I PREROUTING 1 \(jump)",
            "-I OUTPUT 1 \(jump)",
            #"-A LVSH -d 192.168.61.129/32 -p tcp -m multiport --dports 80,443 -m comment --comment "lvsh:web" -j MARK --set-xmark 0x3e8/0xffffffff"#,
            #"-A LVSH -m comment --comment "lvsh generation 1""#,
            "COMMIT",
        ])
        // Nothing to write for a family without rules and without a chain: no tool run at all.
        #expect(IPTablesBackend.script(for: [IPTSamples.v6], over: IPTablesChainState(), family: .v4) == nil)
    }

    @Test("an existing chain is rewritten whole, guarded by the generation it was read at")
    func rewrite() {
        let script = IPTablesBackend.script(for: [web, IPTSamples.spare], over: state([web], generation: 41), family: .v4)
        #expect(script?.lines == [
            "*mangle",
            #"-D LVSH -m comment --comment "lvsh generation 41""#,
            "-F LVSH",
            #"-A LVSH -m comment --comment "lvsh:spare empty mark=0x3ea""#,
            #"-A LVSH -d 192.168.61.129/32 -p tcp -m multiport --dports 80,443 -m comment --comment "lvsh:web" -j MARK --set-xmark 0x3e8/0xffffffff"#,
            #"-A LVSH -m comment --comment "lvsh generation 42""#,
            "COMMIT",
        ])
        #expect(script?.line(2) == #"-D LVSH -m comment --comment "lvsh generation 41""#)
        #expect(script?.line(99) == nil)
    }

    @Test("unchanged rules and jumps mean no restore; a missing jump alone is restored")
    func unchanged() {
        #expect(IPTablesBackend.script(for: [web], over: state([web], generation: 7), family: .v4) == nil)
        var noOutput = state([web], generation: 7)
        noOutput.jumps.removeAll { $0.chain == "OUTPUT" }
        let lines = IPTablesBackend.script(for: [web], over: noOutput, family: .v4)?.lines ?? []
        #expect(lines.contains("-I OUTPUT 1 \(jump)"))
        #expect(!lines.contains("-I PREROUTING 1 \(jump)"))
    }

    @Test("removing the last rules removes the jumps and the chain")
    func removeAll() {
        var s = state([web], generation: 5)
        s.jumps.append(.init(chain: "OUTPUT", spec: "-j LVSH"))   // a second jump, added by hand
        #expect(IPTablesBackend.script(for: [IPTSamples.v6], over: s, family: .v4)?.lines == [
            "*mangle",
            #"-D LVSH -m comment --comment "lvsh generation 5""#,
            "-D PREROUTING \(jump)",
            "-D OUTPUT \(jump)",
            "-D OUTPUT -j LVSH",
            "-F LVSH",
            "-X LVSH",
            "COMMIT",
        ])
    }

    @Test("iptables-nft: removing the last rules also removes hook chains that held only the jumps; legacy keeps its built-ins")
    func removeEmptyHooks() {
        // As iptables-nft-save prints a mangle table that only lvsh's first restore created.
        let save = """
            *mangle
            :PREROUTING ACCEPT [0:0]
            :INPUT ACCEPT [0:0]
            :FORWARD ACCEPT [0:0]
            :OUTPUT ACCEPT [0:0]
            :POSTROUTING ACCEPT [0:0]
            :LVSH - [0:0]
            -A PREROUTING \(jump)
            -A OUTPUT \(jump)
            -A LVSH -m comment --comment "lvsh generation 3"
            COMMIT

            """
        let s = IPTablesSave.chainState(fromSave: save)
        let removal = [
            "*mangle",
            #"-D LVSH -m comment --comment "lvsh generation 3""#,
            "-D PREROUTING \(jump)",
            "-D OUTPUT \(jump)",
            "-F LVSH",
            "-X LVSH",
        ]
        #expect(IPTablesBackend.script(for: [], over: s, family: .v4, flavour: .nft)?.lines
                == removal + ["-X PREROUTING", "-X OUTPUT", "COMMIT"])
        #expect(IPTablesBackend.script(for: [], over: s, family: .v4, flavour: .legacy)?.lines == removal + ["COMMIT"])
        // A hook chain with someone else's rules, or a DROP policy, stays.
        let shared = IPTablesSave.chainState(fromSave: simulatedSave([.generation(3)]))
        #expect(IPTablesBackend.script(for: [], over: shared, family: .v4, flavour: .nft)?.lines.contains("-X PREROUTING") == false)
        #expect(IPTablesBackend.script(for: [], over: shared, family: .v4, flavour: .nft)?.lines.contains("-X OUTPUT") == true)
        let drop = IPTablesSave.chainState(fromSave: save.replacingOccurrences(of: ":OUTPUT ACCEPT", with: ":OUTPUT DROP"))
        #expect(IPTablesBackend.script(for: [], over: drop, family: .v4, flavour: .nft)?.lines.contains("-X OUTPUT") == false)
        // Rules remain: the hooks stay whatever the flavour.
        #expect(IPTablesBackend.script(for: [web], over: s, family: .v4, flavour: .nft)?.lines.contains { $0.hasPrefix("-X") } == false)
    }

    @Test("changes apply in order and are checked whole")
    func changes() throws {
        let e = IPTSamples.entry
        var groups = try IPTablesBackend.groups(applying: [.put(web), .put(IPTSamples.spare)], to: [])
        #expect(groups == [IPTSamples.spare, IPTablesBackend.normalized([web])[0]])
        groups = try IPTablesBackend.groups(applying: [
            .addEntries(group: "spare", [e(nil, .udp, 5060...5061)]),
            .deleteEntries(group: "web", [e("192.168.61.129", .tcp, 443...443)]),
            .delete(group: "spare"),
            .put(PortGroup(name: "app", mark: 9, entries: [e("192.168.61.129", .tcp, 443...443)])),
        ], to: groups)
        #expect(groups.map(\.name) == ["app", "web"])
        #expect(groups[1].entries == [e("192.168.61.129", .tcp, 80...80)])

        func refused(_ changes: [GroupChange]) {
            let error = #expect(throws: LVSError.self) { try IPTablesBackend.groups(applying: changes, to: [web]) }
            #expect(error?.code == .badInput)
        }
        refused([.delete(group: "nope")])
        refused([.addEntries(group: "nope", [])])
        refused([.deleteEntries(group: "web", [e("192.168.61.129", .tcp, 22...22)])])
        refused([.put(PortGroup(name: "other", mark: 1000, entries: []))])                            // mark taken
        refused([.put(PortGroup(name: "other", mark: 5, entries: [e(nil, .tcp, 443...443)]))])         // overlaps web
        refused([.addEntries(group: "web", [e("192.168.61.129", .tcp, 80...90)])])                     // overlaps itself
        refused([.put(PortGroup(name: "zero", mark: 0, entries: []))])
    }
}

@Suite("iptables flavour detection and errors")
struct IPTablesFlavourTests {
    typealias Census = IPTablesCensus

    @Test("detection: lvsh's chain first, then whether nft works, then where more rules live", arguments: [
        (Census(rules: 0, hasChain: true), Census(rules: 500, hasChain: true), IPTablesBackend.Flavour.legacy),
        (Census(rules: 0, hasChain: false), Census(rules: 0, hasChain: true), .nft),
        (Census(rules: 40, hasChain: false), nil, .legacy),
        (Census(rules: 0, hasChain: false), nil, .legacy),
        (Census(rules: 40, hasChain: false), Census(rules: 3, hasChain: false), .legacy),
        (Census(rules: 3, hasChain: false), Census(rules: 40, hasChain: false), .nft),
        (Census(rules: 0, hasChain: false), Census(rules: 0, hasChain: false), .nft),
    ] as [(Census, Census?, IPTablesBackend.Flavour)])
    func decide(legacy: Census, nft: Census?, expected: IPTablesBackend.Flavour) {
        var asked = false
        #expect(IPTablesDetection.decide(legacy: legacy) { asked = true; return nft } == expected)
        // nft is not even asked when legacy holds lvsh's chain.
        #expect(asked == !legacy.hasChain)
    }

    @Test("tool names per flavour and family")
    func tools() {
        #expect(IPTablesTools(flavour: .legacy, family: .v6).restore == "ip6tables-legacy-restore")
        #expect(IPTablesTools(flavour: .nft, family: .v4).save == "iptables-nft-save")
    }

    @Test("the failing line is found in each flavour's message", arguments: [
        ("iptables-restore: line 6 failed\n", 6),
        ("iptables-nft-restore v1.8.9 (nf_tables): \nline 6: CHAIN_DEL failed (Device or resource busy): chain LVSH\n", 6),
        ("iptables-restore v1.8.9 (legacy): too many ports specified\nError occurred at line: 12\nTry `iptables-restore -h' for more information.\n", 12),
        ("iptables-nft-restore: line 2 failed: Bad rule (does a matching rule exist in that chain?).\n", 2),
        ("Failed to initialize nft: Protocol not supported\n", nil),
    ] as [(String, Int?)])
    func lineNumbers(stderr: String, expected: Int?) {
        #expect(IPTablesBackend.lineNumber(in: stderr) == expected)
    }

    @Test("a refused restore quotes the line, the tool and what to do")
    func restoreMessage() {
        let script = IPTablesScript(lines: ["*mangle", "-F LVSH", "-X LVSH", "COMMIT"])
        let tools = IPTablesTools(flavour: .legacy, family: .v6)
        let result = ToolResult(status: 1, stdout: "", stderr: "ip6tables-restore: line 3 failed\n")
        let error = IPTablesBackend.restoreError(result, script: script, tools: tools, rolledBack: [.v4], rollbackFailure: nil)
        #expect(error.code == .failed)
        #expect(error.message == "ip6tables-legacy-restore refused line 3 `-X LVSH`: ip6tables-restore: line 3 failed. Another chain still jumps to LVSH; delete that jump and run the command again (`ip6tables-legacy-save -t mangle` shows the current rules). The iptables-legacy rules written before were put back, so nothing changed.")
        let busy = ToolResult(status: 4, stdout: "", stderr: "iptables-nft-restore v1.8.9 (nf_tables): \nline 6: CHAIN_DEL failed (Device or resource busy): chain LVSH\n")
        #expect(busy.firstErrorLine == "iptables-nft-restore v1.8.9 (nf_tables): line 6: CHAIN_DEL failed (Device or resource busy): chain LVSH")
        #expect(ToolResult(status: 1, stdout: "", stderr: "").errorSentence == "(no message; exit status 1).")
        let nft = ToolResult(status: 1, stdout: "", stderr: "iptables v1.8.9 (nf_tables): Failed to initialize nft: Protocol not supported\n")
        #expect(IPTablesBackend.hint(for: nft, line: nil, tools: tools).contains("legacy flavour"))
        let missing = ToolResult(status: 1, stdout: "", stderr: "iptables-restore: line 9 failed\n")
        #expect(IPTablesBackend.hint(for: missing, line: "COMMIT", tools: tools).contains("xt_multiport"))
    }
}
