import LVSModel

/// Marks port groups with iptables rules in lvsh's own mangle chain, for hosts without nf_tables inet.
///
/// Layout: chain `LVSH` in table mangle of iptables (IPv4 and `any` entries) and ip6tables (IPv6 and
/// `any` entries), jumped to first thing from PREROUTING and OUTPUT. Group names and marks live in
/// rule comments, so `groups()` needs nothing but `iptables-save`. Writes go through
/// `iptables-restore --noflush` only: one call per family that changes, each atomic in the kernel.
public final class IPTablesBackend: MarkBackend {
    /// "iptables", whichever flavour is in use.
    public let name = "iptables"
    /// The flavour asked for; `.auto` is resolved on first use.
    public let requestedFlavour: Flavour
    private var detected: Flavour?
    /// How often update() re-reads and re-plans when another writer changed the chain in between.
    static let attempts = 3
    /// How long a legacy restore waits for the xtables lock that other iptables commands hold.
    static let lockWait = "--wait=10"

    /// Set when the caller found that this kernel has no nf_tables: then `.auto` is legacy, without
    /// running iptables-nft to find out (a process start costs tens of milliseconds in a small VM).
    private let nfTablesMissing: Bool

    /// A backend using `flavour`; `.auto` picks the flavour the host's rules live in.
    public init(flavour: Flavour = .auto, nfTablesMissing: Bool = false) {
        requestedFlavour = flavour
        self.nfTablesMissing = nfTablesMissing
    }

    /// The flavour in use: the one asked for, or the one detected (once) on first use.
    public func flavour() throws(LVSError) -> Flavour {
        if requestedFlavour != .auto { return requestedFlavour }
        if let detected { return detected }
        let found = detect()
        detected = found
        return found
    }

    /// The groups both families' LVSH chains spell, sorted by name (read with the save tools only).
    public func groups() throws(LVSError) -> [PortGroup] {
        try read(flavour()).groups
    }

    /// Read, plan, check, rewrite each changed family's chain in one restore, read back and compare.
    public func update(_ plan: ([PortGroup]) throws(LVSError) -> [GroupChange]) throws(LVSError) -> [GroupChange] {
        let flavour = try flavour()
        for _ in 1...Self.attempts {
            let before = try read(flavour)
            let changes = try plan(before.groups)
            if changes.isEmpty { return [] }
            let desired = try Self.groups(applying: changes, to: before.groups)
            guard try write(desired, over: before, flavour) else { continue }
            // iptables has no generation id of its own: read back and compare with what was meant.
            let after = try read(flavour)
            guard after.groups == desired else {
                let found = Dictionary(after.groups.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
                let meant = Dictionary(desired.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
                let differing = Set(found.keys).union(meant.keys).filter { found[$0] != meant[$0] }.sorted()
                throw .failed("after writing, chain \(IPTablesLayout.chain) does not hold what lvsh wrote (groups differing: \(differing.joined(separator: ", "))): another program changed it at the same time. Run `lvsh show groups` to see what is there and run the command again.")
            }
            return changes
        }
        throw .failed("another program kept changing chain \(IPTablesLayout.chain) while lvsh was writing it (\(Self.attempts) attempts); stop it and run the command again.")
    }

    // MARK: - Reading

    /// What both families' chains hold, and the groups they spell.
    struct Snapshot {
        var states: [IPAddress.Family: IPTablesChainState]
        var groups: [PortGroup]
    }

    func read(_ flavour: Flavour) throws(LVSError) -> Snapshot {
        var states: [IPAddress.Family: IPTablesChainState] = [:]
        var rules: [IPTablesRule] = []
        for family in [IPAddress.Family.v4, .v6] {
            let tools = IPTablesTools(flavour: flavour, family: family)
            let state = try readState(tools)
            states[family] = state
            for spec in state.ruleSpecs {
                do {
                    rules.append(try IPTablesSave.rule(fromSpec: spec, family: family))
                } catch {
                    throw .failed("chain \(IPTablesLayout.chain) in table mangle (\(tools.command)) holds a rule lvsh did not write (\(error.reason)): `-A \(IPTablesLayout.chain) \(spec)`. lvsh owns that chain and rewrites it whole, so it will not guess: delete the rule with `\(tools.command) -t mangle -D \(IPTablesLayout.chain) \(spec)` and run the command again.")
                }
            }
        }
        do {
            return Snapshot(states: states, groups: try IPTablesSave.groups(from: rules))
        } catch {
            throw .failed("chain \(IPTablesLayout.chain) in table mangle is inconsistent: \(error.reason). Fix it by hand (`\(IPTablesTools(flavour: flavour, family: .v4).save) -t mangle` shows it) and run the command again.")
        }
    }

    func readState(_ tools: IPTablesTools) throws(LVSError) -> IPTablesChainState {
        // A legacy table that does not exist holds no rules, and asking the save tool for it would create it.
        if tools.flavour == .legacy && !IPTablesDetection.legacyTables(tools.family).contains(IPTablesLayout.table) {
            return IPTablesChainState()
        }
        let result = try ToolProcess.run(tools.save, ["-t", IPTablesLayout.table])
        guard result.status == 0 else {
            throw .failed("`\(tools.save) -t mangle` failed: \(result.errorSentence) \(Self.hint(for: result, line: nil, tools: tools)).")
        }
        return IPTablesSave.chainState(fromSave: result.stdout)
    }

    // MARK: - Writing

    /// Writes `desired` family by family. Returns false when a restore failed because another writer
    /// changed the chain since `before` was read (everything written is rolled back: re-plan).
    private func write(_ desired: [PortGroup], over before: Snapshot, _ flavour: Flavour) throws(LVSError) -> Bool {
        var written: [IPAddress.Family] = []
        for family in [IPAddress.Family.v4, .v6] {
            let tools = IPTablesTools(flavour: flavour, family: family)
            let state = before.states[family] ?? IPTablesChainState()
            guard let script = Self.script(for: desired, over: state, family: family, flavour: flavour) else { continue }
            let result = try ToolProcess.run(tools.restore, ["--noflush", Self.lockWait], input: script.text)
            if result.status == 0 {
                written.append(family)
                continue
            }
            // Did someone else write the chain since we read it? Then the generation marker moved.
            let now = try? readState(tools)
            let conflict = now.map { $0.chainExists != state.chainExists
                || IPTablesScript.generation(of: $0.ruleSpecs) != IPTablesScript.generation(of: state.ruleSpecs) } ?? false
            let rollbackFailure = rollBack(written, to: before.groups, flavour)
            if conflict && rollbackFailure == nil { return false }
            throw Self.restoreError(result, script: script, tools: tools, rolledBack: written, rollbackFailure: rollbackFailure)
        }
        return true
    }

    /// The restore input turning `state` into the chain for `groups`, with the next generation.
    /// With iptables-nft, removing the last rules removes the hook chains that only held the jumps.
    static func script(for groups: [PortGroup], over state: IPTablesChainState, family: IPAddress.Family,
                       flavour: Flavour = .legacy) -> IPTablesScript? {
        let generation = (IPTablesScript.generation(of: state.ruleSpecs) ?? 0) &+ 1
        return IPTablesScript.rewrite(from: state, to: IPTablesRender.chain(for: groups, family: family, generation: generation),
                                      removingEmptyHooks: flavour == .nft)
    }

    /// Puts the families already written back to `groups`; returns why that failed, if it did.
    private func rollBack(_ families: [IPAddress.Family], to groups: [PortGroup], _ flavour: Flavour) -> String? {
        for family in families {
            let tools = IPTablesTools(flavour: flavour, family: family)
            do {
                let state = try readState(tools)
                guard let script = Self.script(for: groups, over: state, family: family, flavour: flavour) else { continue }
                let result = try ToolProcess.run(tools.restore, ["--noflush", Self.lockWait], input: script.text)
                if result.status != 0 { return "\(tools.restore): \(result.firstErrorLine)" }
            } catch {
                return error.message
            }
        }
        return nil
    }

    // MARK: - Detection

    /// Resolves `.auto` (see IPTablesDetection.decide); tools that fail count as flavours that do not work.
    private func detect() -> Flavour {
        // iptables-nft needs nf_tables.
        if nfTablesMissing { return .legacy }
        let v4 = IPTablesDetection.legacyTables(.v4), v6 = IPTablesDetection.legacyTables(.v6)
        if v4.isEmpty && v6.isEmpty {
            // No legacy table in this namespace: nft, if this kernel has nf_tables (one cheap run
            // that, unlike legacy, creates nothing).
            let probe = try? ToolProcess.run(IPTablesTools(flavour: .nft, family: .v4).save, ["-t", IPTablesLayout.table])
            return probe?.status == 0 ? .nft : .legacy
        }
        var legacy = IPTablesCensus(rules: 0, hasChain: false)
        for (family, tables) in [(IPAddress.Family.v4, v4), (.v6, v6)] where !tables.isEmpty {
            // Without -t, the save tool dumps only the tables that exist and creates none.
            if let r = try? ToolProcess.run(IPTablesTools(flavour: .legacy, family: family).save, []), r.status == 0 {
                let c = IPTablesSave.census(fromSave: r.stdout)
                legacy.rules += c.rules
                legacy.hasChain = legacy.hasChain || c.hasChain
            }
        }
        return IPTablesDetection.decide(legacy: legacy) {
            var nft = IPTablesCensus(rules: 0, hasChain: false)
            for family in [IPAddress.Family.v4, .v6] {
                guard let r = try? ToolProcess.run(IPTablesTools(flavour: .nft, family: family).save, []), r.status == 0 else {
                    // IPv4 failing means nft does not work here; IPv6 alone failing adds nothing.
                    if family == .v4 { return nil } else { continue }
                }
                let c = IPTablesSave.census(fromSave: r.stdout)
                nft.rules += c.rules
                nft.hasChain = nft.hasChain || c.hasChain
            }
            return nft
        }
    }
}

extension IPTablesBackend {
    /// lvsh's chain and the jumps to it, per family, as the save tool prints them.
    public func rulesText() throws(LVSError) -> String {
        let flavour = try flavour()
        var out = ""
        for family in [IPAddress.Family.v4, .v6] {
            let tools = IPTablesTools(flavour: flavour, family: family)
            let state = try readState(tools)
            out += "# \(tools.save) -t mangle (lvsh's part)\n*mangle\n"
            if state.chainExists { out += ":\(IPTablesLayout.chain) - [0:0]\n" }
            for jump in state.jumps { out += "-A \(jump.chain) \(jump.spec)\n" }
            for spec in state.ruleSpecs { out += "-A \(IPTablesLayout.chain) \(spec)\n" }
            out += "COMMIT\n"
        }
        return out
    }
}

extension IPTablesBackend {
    /// Whether the legacy (x_tables) mangle table exists in this namespace, read from /proc without
    /// running a tool: where it does not, no legacy LVSH chain can exist.
    public static func hasLegacyMangle() -> Bool {
        IPTablesDetection.legacyTables(.v4).contains(IPTablesLayout.table)
            || IPTablesDetection.legacyTables(.v6).contains(IPTablesLayout.table)
    }
}
