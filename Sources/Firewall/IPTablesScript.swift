/// One family's `iptables-restore --noflush` input, kept line by line so that the tool's
/// "line N failed" can be quoted back to the user.
struct IPTablesScript: Hashable, Sendable {
    var lines: [String]

    var text: String { lines.joined(separator: "\n") + "\n" }

    /// The input line a tool's error names, if the error names one.
    func line(_ number: Int) -> String? {
        lines.indices.contains(number - 1) ? lines[number - 1] : nil
    }

    /// The input that turns the chain from `current` into exactly `rules` (generation marker
    /// included), or nil when the chain and its jumps already are so.
    ///
    /// The chain is rewritten whole (`-F` then every rule) rather than edited rule by rule: it is
    /// lvsh's own, a restore replaces it in one kernel transaction either way, and a full rewrite
    /// converges from any state. Before flushing, the generation marker that was read is deleted by
    /// spec: if someone wrote the chain since, that line fails and nothing at all is applied.
    /// Jumps are inserted first in PREROUTING and OUTPUT only when missing; when no rules remain,
    /// the jumps and the chain go away, leaving mangle as it was before lvsh. With `removingEmptyHooks`
    /// (iptables-nft, where the hook chains are nf_tables base chains that the first restore created),
    /// a hook chain that held nothing but the jumps, with policy ACCEPT, goes too: an undo leaves no
    /// empty chains behind. Legacy cannot delete built-in chains; its tables always have them.
    static func rewrite(from current: IPTablesChainState, to rules: [IPTablesRule],
                        removingEmptyHooks: Bool = false) -> IPTablesScript? {
        let chain = IPTablesLayout.chain
        let readGeneration = generation(of: current.ruleSpecs)
        var lines = ["*\(IPTablesLayout.table)"]
        if let readGeneration { lines.append("-D \(chain) \(IPTablesRule.generation(readGeneration).spec)") }
        if rules.isEmpty {
            guard current.chainExists || !current.jumps.isEmpty else { return nil }
            lines += current.jumps.map { "-D \($0.chain) \($0.spec)" }
            if current.chainExists { lines += ["-F \(chain)", "-X \(chain)"] }
            if removingEmptyHooks {
                for hook in IPTablesLayout.hooks {
                    let jumps = current.jumps.filter { $0.chain == hook }.count
                    if jumps > 0, current.hookRules[hook] == jumps, current.hookPolicies[hook] == "ACCEPT" { lines.append("-X \(hook)") }
                }
            }
        } else {
            let specs = rules.map(\.spec)
            if current.chainExists && current.hasAllJumps && readGeneration != nil
                && current.ruleSpecs.dropLast() == specs.dropLast() {
                return nil
            }
            lines.append(current.chainExists ? "-F \(chain)" : ":\(chain) - [0:0]")
            for hook in IPTablesLayout.hooks where !current.jumps.contains(where: { $0.chain == hook }) {
                lines.append("-I \(hook) 1 \(IPTablesLayout.jumpSpec)")
            }
            lines += specs.map { "-A \(chain) \($0)" }
        }
        lines.append("COMMIT")
        return IPTablesScript(lines: lines)
    }

    /// The generation a chain's rules end with, if they do.
    static func generation(of specs: [String]) -> UInt64? {
        guard let last = specs.last, case .generation(let n)? = try? IPTablesSave.rule(fromSpec: last, family: .v4) else { return nil }
        return n
    }
}
