import Foundation
import Testing

/// The iptables backend on this kernel (iptables-nft): a batch that created lvsh's chain and is then
/// undone leaves no chain behind, neither LVSH nor the hook chains its restore created.
@Suite(.enabled(if: CLILab.available && CLILab.tool("iptables-nft-restore") != nil, "needs root, ip, nft, iptables-nft and the lvsh binary"))
struct IPTablesUndoCLITests {
    @Test("an undone batch and a removed last group leave no empty chains", arguments: [
        "group c vip 192.0.2.3 tcp 82; group d vip 192.0.2.4 tcp 83",
        "group c vip any tcp 82; group d vip 2001:db8::4 tcp 83",
    ])
    func undo(batch: String) throws {
        let ns = try Netns()
        let before = try ns.sh("nft list ruleset")
        let r = try ns.run(["env", "LVSH_FAIL_STEP=2", CLILab.lvsh, "--backend", "iptables", "-c", batch])
        #expect(r.status == 1, "\(r)")
        #expect(r.err.contains("undone"), "\(r)")
        let after = try ns.sh("nft list ruleset")
        #expect(!after.contains("chain "), "chains left behind:\n\(after)\n(before:\n\(before))")

        // The same by removing the last group.
        #expect(try ns.lvsh("--backend", "iptables", "-c", batch).status == 0)
        #expect(try ns.sh("nft list ruleset").contains("chain LVSH"))
        #expect(try ns.lvsh("--backend", "iptables", "-c", "no group c; no group d").status == 0)
        let emptied = try ns.sh("nft list ruleset")
        #expect(!emptied.contains("chain "), "chains left behind:\n\(emptied)")
    }

    @Test("hook chains holding other rules are left alone")
    func sharedHooks() throws {
        let ns = try Netns()
        try ns.sh("iptables-nft -t mangle -A PREROUTING -p tcp --dport 22 -j MARK --set-mark 7")
        #expect(try ns.lvsh("--backend", "iptables", "group", "a", "vip", "192.0.2.1", "tcp", "80").status == 0)
        #expect(try ns.lvsh("--backend", "iptables", "no", "group", "a").status == 0)
        let save = try ns.sh("iptables-nft-save -t mangle")
        #expect(save.contains("-A PREROUTING -p tcp -m tcp --dport 22 -j MARK --set-xmark 0x7/0xffffffff"), "\(save)")
        #expect(!save.contains("LVSH"), "\(save)")
        let ruleset = try ns.sh("nft list ruleset")
        #expect(ruleset.contains("chain PREROUTING") && !ruleset.contains("chain OUTPUT"), "\(ruleset)")
    }
}
