import LVSModel
import Listings

/// The namespace's whole state as lvsh commands (`show running-config`, `save FILE`): loading the
/// text on an empty kernel rebuilds it, thresholds, tunnel options, daemons and group names included.
/// Written in one pass into a TextBuffer: 10,000 services of 4 real servers are 50,000 lines.
enum RunningConfig {
    static func render(table: IPVSTable, groups: [PortGroup], timeouts: Timeouts?, daemons: [SyncDaemon],
                       sysctls: [(String, String)], defaultTimeouts: Bool = false, health: HealthConfig = HealthConfig()) -> String {
        let reals = table.services.reduce(0) { $0 + $1.realServers.count }
        var out = TextBuffer(capacity: 4096 + groups.count * 128 + table.services.count * 80 + reals * 64)
        out.append("# lvsh running configuration\n")
        if !sysctls.isEmpty {
            out.append("\n")
            for (name, value) in sysctls {
                // Multi-number values (sync_threshold "3 50") must stay one word.
                let words = value.split(whereSeparator: { $0 == " " || $0 == "\t" })
                out.append("sysctl \(name) \(words.count > 1 ? "\"" + words.joined(separator: " ") + "\"" : value)\n")
            }
        }
        if let t = timeouts, defaultTimeouts || t != Timeouts.kernelDefault {
            out.append("\ntimeout tcp \(t.tcp) tcpfin \(t.tcpFin) udp \(t.udp)\n")
        }
        if !daemons.isEmpty {
            out.append("\n")
            for d in daemons.sorted(by: { $0.role.rawValue < $1.role.rawValue }) { out.append(SettingsCommands.command(for: d) + "\n") }
        }
        if !groups.isEmpty {
            out.append("\n")
            for g in groups { out.append(GroupCommands.commands(for: g).joined(separator: "\n") + "\n") }
        }
        let byMark = Dictionary(groups.map { ($0.mark, $0) }, uniquingKeysWith: { a, _ in a })
        var ref = TextBuffer(capacity: 64)
        for i in IPVSAdmSorting.serviceOrder(table.services) {
            let s = table.services[i]
            ref.removeAll()
            reference(s.service.key, byMark, into: &ref)
            out.append("\nservice ")
            out.append(ref)
            out.byte(UInt8(ascii: " "))
            ServiceCommands.describe(s.service, into: &out)
            out.byte(UInt8(ascii: "\n"))
            IPVSAdmSorting.withRealServerOrder(s.realServers) { order in
                for j in order { real(s.realServers[j].server, ref, into: &out) }
            }
            out.checkpoint()
        }
        HealthText.render(health, reference: { key in TextBuffer.text { reference(key, byMark, into: &$0) } }, into: &out)
        return out.finish()
    }

    /// "real REF 10.0.0.1:80 nat weight 1".
    static func real(_ r: RealServer, _ ref: TextBuffer, into out: inout TextBuffer) {
        out.append("real ")
        out.append(ref)
        out.byte(UInt8(ascii: " "))
        if r.address.family == .v6 {
            out.byte(UInt8(ascii: "["))
            out.address(r.address)
            out.byte(UInt8(ascii: "]"))
        } else {
            out.address(r.address)
        }
        out.byte(UInt8(ascii: ":"))
        out.decimal(r.port)
        out.byte(UInt8(ascii: " "))
        RealServerCommands.describe(r, into: &out)
        out.byte(UInt8(ascii: "\n"))
    }

    /// How commands name the service: by group when its mark and family belong to one, else literally.
    static func reference(_ key: ServiceKey, _ groups: [UInt32: PortGroup], into o: inout TextBuffer) {
        switch key {
        case .inet(let p, let a, let port):
            o.append(p.description)
            o.byte(UInt8(ascii: " "))
            if a.family == .v6 {
                o.byte(UInt8(ascii: "["))
                o.address(a)
                o.byte(UInt8(ascii: "]"))
            } else {
                o.address(a)
            }
            o.byte(UInt8(ascii: ":"))
            o.decimal(port)
        case .fwmark(let m, let f):
            // A group's name refers to the service of each family it has; a real server's address picks one.
            if let g = groups[m], g.families.contains(f), g.families.count == 1 || f == .v4 || !g.families.contains(.v4) {
                return o.append(g.name)
            }
            o.append("fwmark ")
            o.decimal(m)
            if f == .v6 { o.append(" ipv6") }
        }
    }
}
