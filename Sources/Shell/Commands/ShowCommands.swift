#if canImport(Glibc)
import Glibc
#endif
import Firewall
import IPVS
import LVSModel
import Engine
import Listings

/// `show ...`: read-only views of the kernel, as text or (with `json`) in the documented JSON shapes.
/// Each reads only what it shows: `show groups` never opens the IPVS socket.
enum ShowCommands {
    static let json: Syntax = .optional(.word("json", help: "machine-readable output (like --json)"))

    static let commands: [Command] = [
        Command(.sequence([.word("show", help: "show the kernel's state"),
                           .word("services", help: "the IPVS services, as ipvsadm -L -n shows them, with group names"),
                           .anyOrder([
                               .flag("stats", help: "counters (ipvsadm --stats)"),
                               .flag("rate", help: "rates (ipvsadm --rate)"),
                               .flag("thresholds", help: "connection thresholds (ipvsadm --thresholds)"),
                               .flag("persistent", help: "persistent connections (ipvsadm --persistent-conn)"),
                               .flag("tunnels", help: "tunnel options (ipvsadm --tun-info)"),
                               .flag("exact", help: "exact numbers (ipvsadm --exact)"),
                               .flag("json", help: "machine-readable output (like --json)"),
                           ])]),
                summary: "list the virtual services and their real servers",
                examples: ["show services", "show services stats", "show services json"],
                handler: .show(services)),
        Command(.sequence([.word("show", help: "show the kernel's state"),
                           .word("groups", help: "the port groups and their marks"), json]),
                summary: "list the port groups", examples: ["show groups", "show groups json"],
                handler: .show(groups)),
        Command(.sequence([.word("show", help: "show the kernel's state"),
                           .word("rules", help: "lvsh's packet-filter rules (nft table inet lvsh, or the LVSH chain)"), json]),
                summary: "show the firewall rules lvsh wrote", examples: ["show rules"],
                handler: .show(rules)),
        Command(.sequence([.word("show", help: "show the kernel's state"),
                           .word("timeouts", help: "IPVS connection timeouts (tcp tcpfin udp)"), json]),
                summary: "show the IPVS connection timeouts", examples: ["show timeouts"],
                handler: .show(timeouts)),
        Command(.sequence([.word("show", help: "show the kernel's state"),
                           .word("sync", help: "the connection-sync daemons"), json]),
                summary: "show the connection-sync daemons", examples: ["show sync"],
                handler: .show(sync)),
        Command(.sequence([.word("show", help: "show the kernel's state"),
                           .word("connections", help: "the IPVS connection table (ipvsadm -L -n -c)"), json]),
                summary: "show the IPVS connection table", examples: ["show connections"],
                handler: .show(connections)),
        Command(.sequence([.word("show", help: "show the kernel's state"),
                           .word("version", help: "lvsh's and the kernel's IPVS version"), json]),
                summary: "show versions", examples: ["show version"],
                handler: .show(version)),
    ]

    @Sendable static func services(_ b: Bindings, _ ctx: ShowContext) throws(LVSError) -> String {
        var format: ListFormat = [.numeric]
        if b.has("stats") { format.insert(.stats) }
        if b.has("rate") { format.insert(.rate) }
        if b.has("thresholds") { format.insert(.thresholds) }
        if b.has("persistent") { format.insert(.persistentConnections) }
        if b.has("tunnels") { format.insert(.tunnelInfo) }
        if b.has("exact") { format.insert(.exact) }
        let ipvs = try ctx.ipvs()
        let json = ctx.json || b.has("json")
        let table = try ipvs.table(json ? .complete : format.tableDetail)
        // Group names come from the firewall backend; a host without one still lists its services.
        let groups = (try? ctx.marks().groups()) ?? []
        if json { return ServicesJSON.text(table, groups: groups) }
        let listing = IPVSAdmListing.all(info: try ipvs.info(), table: table, format: format)
        guard !groups.isEmpty else { return listing }
        let names = Dictionary(groups.map { ($0.mark, $0.name) }, uniquingKeysWith: { a, _ in a })
        return listing.split(separator: "\n", omittingEmptySubsequences: false).map { line -> String in
            guard line.hasPrefix("FWM  "), let mark = line.dropFirst(5).split(separator: " ").first.flatMap({ UInt32($0) }),
                  let name = names[mark] else { return String(line) }
            return line + "  group \(name)"
        }.joined(separator: "\n")
    }

    @Sendable static func groups(_ b: Bindings, _ ctx: ShowContext) throws(LVSError) -> String {
        let groups = try ctx.marks().groups()
        if ctx.json || b.has("json") { return GroupsJSON.text(groups) }
        if groups.isEmpty { return "no port groups (create one with `group NAME vip ADDRESS PROTO PORTS`)\n" }
        return groups.flatMap(GroupCommands.commands(for:)).joined(separator: "\n") + "\n"
    }

    @Sendable static func rules(_ b: Bindings, _ ctx: ShowContext) throws(LVSError) -> String {
        let marks = try ctx.marks()
        let text = try marks.rulesText()
        if ctx.json || b.has("json") { return JSON.object([("backend", .string(marks.name)), ("rules", .string(text))]).text + "\n" }
        return text.isEmpty ? "lvsh has no \(marks.name) rules yet\n" : text
    }

    @Sendable static func timeouts(_ b: Bindings, _ ctx: ShowContext) throws(LVSError) -> String {
        let t = try ctx.ipvs().timeouts()
        if ctx.json || b.has("json") {
            return JSON.object([("tcp", .int(t.tcp)), ("tcpfin", .int(t.tcpFin)), ("udp", .int(t.udp))]).text + "\n"
        }
        return "timeout tcp \(t.tcp) tcpfin \(t.tcpFin) udp \(t.udp)\n"
    }

    @Sendable static func sync(_ b: Bindings, _ ctx: ShowContext) throws(LVSError) -> String {
        let daemons = try ctx.ipvs().daemons()
        if ctx.json || b.has("json") { return SyncJSON.text(daemons) }
        if daemons.isEmpty { return "no sync daemons\n" }
        return daemons.map(SettingsCommands.command(for:)).joined(separator: "\n") + "\n"
    }

    @Sendable static func connections(_ b: Bindings, _ ctx: ShowContext) throws(LVSError) -> String {
        let conns = try ctx.connections()
        if ctx.json || b.has("json") { return ConnectionJSON.text(conns) }
        return IPVSAdmOtherListings.connections(conns, format: [.numeric])
    }

    @Sendable static func version(_ b: Bindings, _ ctx: ShowContext) throws(LVSError) -> String {
        if ctx.json || b.has("json") {
            let info = try? ctx.ipvs().info()
            return JSON.object([("lvsh", .string(LVSHVersion.string)), ("ipvs", info.map { .string($0.versionString) } ?? .null),
                                ("connection_table_size", info.map { .int($0.connectionTableSize) } ?? .null)]).text + "\n"
        }
        return "lvsh \(LVSHVersion.string)\n" + LVSHVersion.ipvsLine { () throws(LVSError) in try ctx.ipvs().info() }
    }
}

/// lvsh's own version, and the kernel's IPVS version as `show version` and `lvsh --version` say it.
public enum LVSHVersion {
    public static let string = "0.1.0"

    /// The IPVS line: its version, or why there is none. Never fails: a version is asked for when
    /// something is wrong.
    public static func ipvsLine(_ read: () throws(LVSError) -> IPVSInfo) -> String {
        do {
            let info = try read()
            return "IPVS \(info.versionString) (connection table size \(info.connectionTableSize))\n"
        } catch {
            // IPVS answers nothing, not even its version, without CAP_NET_ADMIN.
            if error.errno == EPERM { return "IPVS version unknown: reading it needs CAP_NET_ADMIN (run as root)\n" }
            return "IPVS not available in this kernel\n"
        }
    }
}
