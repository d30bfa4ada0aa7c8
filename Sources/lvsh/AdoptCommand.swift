#if canImport(Glibc)
import Glibc
#endif
import Firewall
import Import
import LVSModel
import Shell
import System

/// `lvsh [--backend nft|iptables] adopt [--take-over]`: the live kernel — IPVS services, lvsh's groups,
/// and the mark rules of others (iptables legacy and nft flavours, nftables) that feed fwmark
/// services — as an lvsh configuration on standard output; a warning on standard error for every
/// mark rule not carried. It writes nothing.
enum AdoptCommand {
    static let usage = """
        usage: lvsh [--backend nft|iptables] adopt [--take-over]
          The kernel's IPVS services (every kind), timeouts, sync daemons and sysctls, lvsh's own groups, and
          the firewall rules of others that mark packets for fwmark services (iptables/ip6tables legacy and nft,
          nftables: destination address, protocol, ports, a whole mark) as lvsh commands on standard output.
          A rule lvsh cannot say is one warning on standard error.
          Without --take-over, groups found in rules of others are written as comments: `lvsh apply` of the
          output then writes nothing on this kernel. --take-over makes them lvsh groups (mark-N): apply then
          adds lvsh's own rules for them, marking the same packets the same way, and the old rules can go.
        """

    static func run(globals: [String], _ args: [String]) -> Int32 {
        if args.contains("--help") || args.contains("-h") {
            StandardStream.write(usage + "\n", to: 1)
            return 0
        }
        var options = SessionOptions()
        var takeOver = false
        do throws(LVSError) {
            var i = 0
            while i < globals.count {
                switch globals[i] {
                case "--backend" where i + 1 < globals.count && ["nft", "iptables"].contains(globals[i + 1]):
                    options.backend = globals[i + 1]
                    i += 1
                case let a where a.hasPrefix("--backend=") && ["nft", "iptables"].contains(String(a.dropFirst(10))):
                    options.backend = String(a.dropFirst(10))
                default:
                    throw .badInput("usage: adopt takes only --backend nft|iptables before it ('\(Shown.word(globals[i]))')")
                }
                i += 1
            }
            for a in args {
                guard a == "--take-over" else { throw .badInput("usage: unknown argument '\(Shown.word(a))'") }
                takeOver = true
            }
            guard Privilege.hasNetAdmin() else { throw Privilege.error }
            let session = Session.standard(options)
            let kernel = try session.kernelConfiguration()
            let scan = try firewallScan()
            var families: [UInt32: Set<IPAddress.Family>] = [:]
            for s in kernel.table.services { if case .fwmark(let m, let f) = s.service.key { families[m, default: []].insert(f) } }
            let adopted = MarkAdoption.groups(from: scan, serviceMarks: kernel.serviceMarks, owned: kernel.groups, serviceFamilies: families)
            for w in adopted.warnings { StandardStream.write(Shown.message("lvsh adopt: " + w) + "\n", to: 2) }
            if takeOver {
                for (name, why) in adopted.familyMismatch.sorted(by: { $0.key < $1.key }) {
                    StandardStream.write(Shown.message("lvsh adopt: group \(name) stays a comment: \(why)") + "\n", to: 2)
                }
            }
            StandardStream.write(text(kernel, adopted, takeOver: takeOver), to: 1)
            return 0
        } catch {
            if error.code == .badInput && error.message.hasPrefix("usage: ") {
                StandardStream.write("lvsh adopt: \(error.message.dropFirst(7))\n\(usage)\n", to: 2)
            } else {
                StandardStream.write(Shown.message("lvsh adopt: " + error.message) + "\n", to: 2)
            }
            return error.code.rawValue
        }
    }

    static func text(_ kernel: KernelConfiguration, _ adopted: MarkAdoption.Result, takeOver: Bool) -> String {
        let live = takeOver ? adopted.groups.filter { adopted.familyMismatch[$0.name] == nil } : []
        var out = kernel.render(extra: live)
        let header = "# lvsh running configuration\n"
        if out.hasPrefix(header) { out.removeFirst(header.count) }
        var head = "# lvsh configuration made by `lvsh adopt` from the kernel\(takeOver ? " (--take-over)" : "")\n"
        if !adopted.groups.isEmpty {
            if !live.isEmpty {
                head += "#\n# Groups read from firewall rules lvsh does not own; `lvsh apply` adds lvsh's own rules for them (the\n# same marks on the same packets). Remove these rules afterwards:\n"
                for g in live {
                    for origin in adopted.origins[g.name] ?? [] { head += "#   \(origin)\n" }
                }
            }
            let commented = adopted.groups.filter { g in !live.contains { $0.name == g.name } }
            if !commented.isEmpty {
                head += "#\n# Marked by firewall rules lvsh does not own: `lvsh apply` of this file leaves them alone and the\n# fwmark services below keep their marks. To hand them to lvsh, use `lvsh adopt --take-over`\n# (or uncomment the groups), apply, then remove the rules.\n"
                for g in commented {
                    for origin in adopted.origins[g.name] ?? [] { head += "#   \(origin)\n" }
                    if let why = adopted.familyMismatch[g.name] { head += "#   (\(why))\n" }
                    for line in KernelConfiguration.commands(for: g) { head += "# \(line)\n" }
                }
            }
        }
        return head + out
    }

    /// Every mark rule of the firewall: iptables legacy (only tables that exist: reading creates none),
    /// nftables (`nft -j`), and iptables-nft's tables through its own save, when nft shows them.
    static func firewallScan() throws(LVSError) -> MarkRuleScan {
        var scan = MarkRuleScan()
        for (family, names, tool) in [(IPAddress.Family.v4, "ip_tables_names", "iptables-legacy-save"),
                                      (.v6, "ip6_tables_names", "ip6tables-legacy-save")] {
            let tables = ProcFile.read("/proc/thread-self/net/" + names) ?? ProcFile.read("/proc/self/net/" + names) ?? ""
            guard !tables.split(separator: "\n").isEmpty else { continue }
            let r = try ToolProcess.run(tool, [])
            guard r.status == 0 else { throw .failed("\(tool) failed (status \(r.status)): \(r.stderr.split(separator: "\n").first ?? "")") }
            scan.merge(IPTablesMarkRules.scan(r.stdout, tool: String(tool.dropLast(5)), family: family))
        }
        // nftables: absent or without the nf_tables module, there is nothing to read.
        guard let nft = try? ToolProcess.run("nft", ["-j", "list", "ruleset"]), nft.status == 0,
              !nft.stdout.trimmingCharacters(in: " \n").isEmpty else { return scan }
        var skipping: Set<String> = []
        if nft.stdout.contains("\"xt\"") {
            for (family, nftFamily, tool) in [(IPAddress.Family.v4, "ip", "iptables-nft-save"), (.v6, "ip6", "ip6tables-nft-save")] {
                guard let r = try? ToolProcess.run(tool, []), r.status == 0 else { continue }
                for line in r.stdout.split(separator: "\n") where line.hasPrefix("*") { skipping.insert("\(nftFamily) \(line.dropFirst())") }
                scan.merge(IPTablesMarkRules.scan(r.stdout, tool: String(tool.dropLast(5)), family: family))
            }
        }
        scan.merge(try NFTMarkRules.scan(json: nft.stdout, skipping: skipping))
        return scan
    }
}

extension String {
    fileprivate func trimmingCharacters(in set: String) -> Substring {
        let s = self.drop { set.contains($0) }
        return s.prefix(s.count - s.reversed().prefix { set.contains($0) }.count)
    }
}
