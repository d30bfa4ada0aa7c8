import LVSModel
import Listings

/// The namespace's whole state as lvsh commands (`show running-config`, `save FILE`): loading the
/// text on an empty kernel rebuilds it, thresholds, tunnel options, daemons and group names included.
enum RunningConfig {
    static func render(table: IPVSTable, groups: [PortGroup], timeouts: Timeouts?, daemons: [SyncDaemon],
                       sysctls: [(String, String)], defaultTimeouts: Bool = false) -> String {
        var out = "# lvsh running configuration\n"
        if !sysctls.isEmpty {
            out += "\n"
            for (name, value) in sysctls {
                // Multi-number values (sync_threshold "3 50") must stay one word.
                let words = value.split(whereSeparator: { $0 == " " || $0 == "\t" })
                out += "sysctl \(name) \(words.count > 1 ? "\"" + words.joined(separator: " ") + "\"" : value)\n"
            }
        }
        if let t = timeouts, defaultTimeouts || t != Timeouts.kernelDefault {
            out += "\ntimeout tcp \(t.tcp) tcpfin \(t.tcpFin) udp \(t.udp)\n"
        }
        if !daemons.isEmpty {
            out += "\n"
            for d in daemons.sorted(by: { $0.role.rawValue < $1.role.rawValue }) { out += SettingsCommands.command(for: d) + "\n" }
        }
        if !groups.isEmpty {
            out += "\n"
            for g in groups { out += GroupCommands.commands(for: g).joined(separator: "\n") + "\n" }
        }
        let byMark = Dictionary(groups.map { ($0.mark, $0) }, uniquingKeysWith: { a, _ in a })
        for s in IPVSAdmSorting.services(table.services) {
            let ref = reference(s.service.key, byMark)
            out += "\nservice \(ref) \(ServiceCommands.describe(s.service))\n"
            for r in IPVSAdmSorting.realServers(s.realServers) {
                let a = r.server.address
                let addr = a.family == .v6 ? "[\(a)]:\(r.server.port)" : "\(a):\(r.server.port)"
                out += "real \(ref) \(addr) \(RealServerCommands.describe(r.server))\n"
            }
        }
        return out
    }

    /// How commands name the service: by group when its mark and family belong to one, else literally.
    static func reference(_ key: ServiceKey, _ groups: [UInt32: PortGroup]) -> String {
        switch key {
        case .inet(let p, let a, let port):
            return "\(p) \(a.family == .v6 ? "[\(a)]" : "\(a)"):\(port)"
        case .fwmark(let m, let f):
            // A group's name refers to the service of each family it has; a real server's address picks one.
            if let g = groups[m], g.families.contains(f), g.families.count == 1 || f == .v4 || !g.families.contains(.v4) {
                return g.name
            }
            return "fwmark \(m)\(f == .v6 ? " ipv6" : "")"
        }
    }
}
