#if canImport(Glibc)
import Glibc
#endif
import Firewall
import IPVS
import LVSModel
import Engine
import System

/// Sysctls, settings, configuration files and real-server preparation.
enum SystemCommands {
    static let commands: [Command] = [
        Command(.sequence([.word("sysctl", help: "a kernel setting lvsh knows (net.ipv4.vs.*, forwarding, ARP)"),
                           .value("name", .sysctlName, help: "full or short name, e.g. ip_forward or net.ipv4.vs.conntrack"),
                           .value("value", .text, help: "the value; on/off for switches")]),
                summary: "set a kernel setting (checked against what it accepts)",
                examples: ["sysctl ip_forward on", "sysctl expire_nodest_conn 1"], handler: .change(sysctl)),
        Command(.sequence([.word("show", help: "show the kernel's state"),
                           .word("sysctl", help: "the settings lvsh knows: current, recommended, why"), ShowCommands.json]),
                summary: "show the sysctls that matter here, with lvsh's recommendation and the reason",
                examples: ["show sysctl"], handler: .show(showSysctl)),
        Command(.sequence([.word("show", help: "show the kernel's state"),
                           .word("running-config", help: "everything lvsh manages, as commands"), ShowCommands.json]),
                summary: "show the whole state as lvsh commands (what save writes)",
                examples: ["show running-config"], handler: .show(runningConfig)),
        Command(.sequence([.word("save", help: "write the running configuration to a file"),
                           .optional(.value("file", .file, help: "the file (written atomically); without it, /etc/lvsh/running.lvsh, or lvsh daemon's FILE"))]),
                summary: "save the running configuration (load or apply it to rebuild this state); with no FILE, the boot configuration",
                examples: ["save", "save /etc/lvsh/site.lvsh"], handler: .write(save)),
        Command(.sequence([.word("load", help: "run a file of commands as one batch"),
                           .value("file", .file, help: "the file")]),
                summary: "run a file of commands: checked whole first, undone whole if the kernel refuses a step",
                examples: ["load /etc/lvsh/site.lvsh"], handler: .include),
        Command(.sequence([.word("apply", help: "make the kernel match a configuration file"),
                           .value("file", .file, help: "the desired state: lvsh commands, ipvsadm lines allowed")]),
                summary: "make the kernel look like the file with the smallest plan (options --check --diff --json --prune --drain S --confirm S)",
                examples: ["apply /etc/lvsh/site.lvsh"], handler: .alone(apply)),
        Command(.word("confirm", help: "keep what `apply --confirm` applied"),
                summary: "keep the state of a pending `apply --confirm` (otherwise it is rolled back)",
                examples: ["confirm"], handler: .alone(confirm)),
        Command(.sequence([.word("show", help: "show the kernel's state"), .word("diff", help: "compare a file with the kernel"),
                           .value("file", .file, help: "a configuration file"), ShowCommands.json]),
                summary: "show how the kernel differs from a configuration file (what apply would change)",
                examples: ["show diff /etc/lvsh/site.lvsh"], handler: .alone(showDiff)),
        Command(.sequence([.word("set", help: "an lvsh setting, kept in /etc/lvsh/lvsh.conf"),
                           .oneOf("setting", Settings.known.map { ($0.name, $0.help) }),
                           .value("value", .text, help: "the value")]),
                summary: "change an lvsh setting (backend auto|nft|iptables, auto-sysctl on|off, archive on|off)",
                examples: ["set auto-sysctl off", "set backend iptables"], handler: .write(set)),
        Command(.sequence([.word("realserver", help: "run on a real server: what DR and TUN need there"),
                           .word("prepare", help: "configure this host as a real server now"),
                           .value("vip", .address, help: "the virtual address"),
                           .optional(.oneOf("method", [("dr", "direct routing (default): VIP on lo"),
                                                        ("tun", "tunnelling: VIP on tunl0")]))]),
                summary: "make this host a DR or TUN real server for a VIP (address, ARP and rp_filter settings)",
                examples: ["realserver prepare 192.168.61.129 dr"], handler: .alone(prepare)),
        Command(.sequence([.word("realserver", help: "what DR and TUN need on a real server"),
                           .word("script", help: "print the same as a shell script"),
                           .value("vip", .address, help: "the virtual address"),
                           .optional(.oneOf("method", [("dr", "direct routing (default)"), ("tun", "tunnelling")]))]),
                summary: "print a shell script that prepares a real server (for hosts without lvsh)",
                examples: ["realserver script 192.168.61.129 tun"], handler: .show(script)),
    ]

    @Sendable static func sysctl(_ b: Bindings, _ c: inout Candidate) throws(LVSError) {
        let name = b.first("name")!
        guard let spec = SysctlCatalog.spec(name) else { throw SysctlCatalog.unknown(name) }
        let value = try spec.normalize(b.first("value")!)
        c.setSysctl(spec.name, value, "set \(spec.name) = \(value)")
    }

    @Sendable static func showSysctl(_ b: Bindings, _ ctx: ShowContext) throws(LVSError) -> String {
        let table = (try? ctx.ipvs().table(.listing)) ?? IPVSTable()
        let advice = Dictionary(SysctlAdvice.needs(of: table, health: ctx.health).map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        var rows: [(SysctlSpec, String?, SysctlAdvice?)] = []
        for spec in SysctlCatalog.all {
            let current = ctx.sysctl(spec.name)
            // Unset and unneeded IPVS knobs would bury the ones that matter; show those that exist.
            if current == nil && advice[spec.name] == nil { continue }
            rows.append((spec, current, advice[spec.name]))
        }
        if ctx.json || b.has("json") {
            return JSON.object([("sysctls", .array(rows.map { spec, cur, adv in
                .object([("name", .string(spec.name)), ("current", cur.map(JSON.string) ?? .null),
                         ("recommended", adv.map { .string($0.recommended) } ?? .null),
                         ("reason", .string(adv?.reason ?? spec.help))])
            }))]).text + "\n"
        }
        let width = rows.map { $0.0.name.count }.max() ?? 10
        var out = "NAME".padding(width) + "  CURRENT   RECOMMENDED  WHY\n"
        for (spec, current, adv) in rows {
            let mark = adv != nil && current != adv?.recommended ? "!" : " "
            out += spec.name.padding(width) + "  " + (current ?? "-").padding(8) + mark + " "
                + (adv?.recommended ?? "-").padding(11) + "  " + (adv?.reason ?? spec.help) + "\n"
        }
        return out
    }

    @Sendable static func runningConfig(_ b: Bindings, _ ctx: ShowContext) throws(LVSError) -> String {
        do throws(LVSError) {
            let text = try configText(ctx)
            return ctx.json || b.has("json") ? JSON.object([("config", .string(text))]).text + "\n" : text
        } catch {
            throw LVSError(error.code, "cannot show the running configuration: \(error.message)", errno: error.errno)
        }
    }

    /// The whole state as lvsh commands. Throws when any part of it cannot be read: an incomplete
    /// configuration, applied with --prune, would remove what it left out.
    static func configText(_ ctx: ShowContext) throws(LVSError) -> String {
        try KernelConfiguration(reading: ctx).render()
    }

    /// The parts of the running configuration, read from `ctx`.
    static func configParts(_ ctx: ShowContext) throws(LVSError) -> KernelConfiguration {
        var ipvs: IPVSState? = nil
        do throws(LVSError) {
            ipvs = try IPVSState(reading: ctx.ipvs())
        } catch {
            // Without IPVS in the kernel there are only groups and sysctls to save.
            guard error.errno == ENOENT || KernelIPVS.isAbsent(after: error) else { throw error }
        }
        let table = ipvs?.table ?? IPVSTable()
        let groups = try ctx.marks().groups()
        var sysctls: [(String, String)] = []
        let needed = Set(SysctlAdvice.needs(of: table, health: ctx.health).map(\.name))
        for spec in SysctlCatalog.all where spec.name.hasPrefix("net.ipv4.vs.") || needed.contains(spec.name) {
            if let v = ctx.sysctl(spec.name), !v.isEmpty { sysctls.append((spec.name, v)) }
        }
        return KernelConfiguration(table: table, groups: groups, timeouts: ipvs?.timeouts, daemons: ipvs?.daemons ?? [],
                                   sysctls: sysctls, health: ctx.health)
    }

    @Sendable static func save(_ b: Bindings, _ ctx: ShowContext, _ options: SessionOptions) throws(LVSError) -> FileWrite {
        let path = b.first("file") ?? options.bootConfigPath
        let text: String
        do throws(LVSError) {
            text = try configText(ctx)
        } catch {
            throw LVSError(error.code, "nothing saved, \(path) is unchanged: \(error.message)", errno: error.errno)
        }
        return FileWrite(path: path, contents: text, done: "saved to \(path)\n")
    }

    @Sendable static func apply(_ b: Bindings, _ session: Session) throws(LVSError) -> Int32 {
        var options = session.options.apply
        options.json = options.json || session.options.json
        return ApplyRunner(session: session, options: options).run(path: b.first("file")!)
    }

    @Sendable static func confirm(_ b: Bindings, _ session: Session) throws(LVSError) -> Int32 {
        if let daemon = session.confirmPending {
            session.out(daemon())
        } else {
            session.out(try RollbackWaiter.confirm(session.kernel))
        }
        return 0
    }

    @Sendable static func showDiff(_ b: Bindings, _ session: Session) throws(LVSError) -> Int32 {
        var options = ApplyOptions()
        options.check = true
        options.diff = true
        let path = b.first("file")!
        if session.options.json || b.has("json") {
            // apply --check --json's shape: whether anything differs, both texts, the plan.
            options.json = true
            options.exitCode = session.options.apply.exitCode
            return ApplyRunner(session: session, options: options).run(path: path)
        }
        let report = try ApplyRunner(session: session, options: options).plan(path: path)
        session.out(report.diff.isEmpty ? "no differences: the kernel matches \(path)\n" : report.diff)
        return session.options.apply.exitCode && !report.plan.isEmpty ? ApplyRunner.pendingExitCode : 0
    }

    @Sendable static func set(_ b: Bindings, _ ctx: ShowContext, _ options: SessionOptions) throws(LVSError) -> FileWrite {
        let path = options.configPath
        var settings = try Settings.load(path)
        try settings.set(b.first("setting")!, b.first("value")!)
        return FileWrite(path: path, contents: settings.text, done: "\(b.first("setting")!) = \(b.first("value")!) (saved in \(path))\n")
    }

    @Sendable static func prepare(_ b: Bindings, _ session: Session) throws(LVSError) -> Int32 {
        let plan = RealServerPlan(vip: b.address("vip")!, tunnel: b.first("method") == "tun")
        var out = ""
        for step in plan.steps {
            switch step {
            case .run(let tool, let args, let why):
                let result = try ToolProcess.run(tool, args)
                // An address that is already there is what we want.
                if result.status != 0 && !result.stderr.contains("File exists") {
                    throw .failed("`\(tool) \(args.joined(separator: " "))` failed: \(result.stderr.split(separator: "\n").first ?? "")")
                }
                out += "\(tool) \(args.joined(separator: " "))    # \(why)\n"
            case .sysctl(let name, let value, let why):
                try session.writeSysctl(name, value)
                out += "sysctl \(name)=\(value)    # \(why)\n"
            }
        }
        session.out(out)
        return 0
    }

    @Sendable static func script(_ b: Bindings, _ ctx: ShowContext) throws(LVSError) -> String {
        RealServerPlan(vip: b.address("vip")!, tunnel: b.first("method") == "tun").script
    }
}
