import LVSModel
import Listings
@testable import Shell

// The renderers as they were before step 6 (commit 8091635), kept as the oracle of
// JSONRendererTests: a tree of JSON values serialised through String, and running-config made by
// String concatenation. Only the names changed (Old...).

indirect enum OldJSON {
    case null
    case bool(Bool)
    case number(Int64)
    case string(String)
    case array([OldJSON])
    case object([(String, OldJSON)])

    var text: String {
        var out = ""
        write(into: &out)
        return out
    }

    private func write(into out: inout String) {
        switch self {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .number(let n): out += String(n)
        case .string(let s): OldJSON.quote(s, into: &out)
        case .array(let items):
            out += "["
            for (i, item) in items.enumerated() {
                if i > 0 { out += "," }
                item.write(into: &out)
            }
            out += "]"
        case .object(let fields):
            out += "{"
            for (i, (k, v)) in fields.enumerated() {
                if i > 0 { out += "," }
                OldJSON.quote(k, into: &out)
                out += ":"
                v.write(into: &out)
            }
            out += "}"
        }
    }

    static func quote(_ s: String, into out: inout String) {
        out += "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where u.value < 0x20:
                let hex = String(u.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(u)
            }
        }
        out += "\""
    }

    static func int<T: BinaryInteger>(_ n: T) -> OldJSON { .number(Int64(truncatingIfNeeded: n)) }
}

enum OldModelJSON {
    static func groups(_ groups: [PortGroup]) -> OldJSON {
        .object([("groups", .array(groups.map(group)))])
    }

    static func group(_ g: PortGroup) -> OldJSON {
        .object([
            ("name", .string(g.name)),
            ("mark", .int(g.mark)),
            ("entries", .array(g.entries.sorted().map { e in
                .object([
                    ("address", e.address.map { .string($0.description) } ?? .null),
                    ("protocol", .string(e.protocolName.description)),
                    ("ports", .array([.int(e.ports.lowerBound), .int(e.ports.upperBound)])),
                ])
            })),
        ])
    }

    static func services(_ table: IPVSTable, groups: [PortGroup]) -> OldJSON {
        let names = Dictionary(groups.map { ($0.mark, $0.name) }, uniquingKeysWith: { a, _ in a })
        return .object([("services", .array(IPVSAdmSorting.services(table.services).map { service($0, names) }))])
    }

    static func service(_ s: ServiceStatus, _ names: [UInt32: String]) -> OldJSON {
        let v = s.service
        var fields: [(String, OldJSON)]
        switch v.key {
        case .inet(let p, let a, let port):
            fields = [("protocol", .string(p.description)), ("address", .string(a.description)), ("port", .int(port)),
                      ("fwmark", .null), ("family", .string(a.family == .v4 ? "ipv4" : "ipv6")), ("group", .null)]
        case .fwmark(let m, let f):
            fields = [("protocol", .null), ("address", .null), ("port", .null), ("fwmark", .int(m)),
                      ("family", .string(f == .v4 ? "ipv4" : "ipv6")), ("group", names[m].map(OldJSON.string) ?? .null)]
        }
        let netmask: OldJSON = v.key.family == .v4 ? .string(IPAddress(v4: v.netmask).description) : .int(v.netmask)
        fields += [
            ("scheduler", .string(v.scheduler)),
            ("persistent", v.isPersistent ? .int(v.timeout) : .null),
            ("netmask", netmask),
            ("pe", v.persistenceEngine.map(OldJSON.string) ?? .null),
            ("flags", .array(flags(v).map(OldJSON.string))),
            ("stats", stats(s.stats)),
            ("reals", .array(IPVSAdmSorting.realServers(s.realServers).map(real))),
        ]
        return .object(fields)
    }

    static func flags(_ v: VirtualService) -> [String] {
        var out: [String] = []
        if v.flags.contains(.onePacket) { out.append("one-packet") }
        for (name, flag) in Schedulers.flagNames(for: v.scheduler) where v.flags.contains(flag) { out.append(name) }
        return out
    }

    static func real(_ r: RealServerStatus) -> OldJSON {
        let s = r.server
        let method = RealServerCommands.methods.first { $0.method == s.forwarding }?.word ?? s.forwarding.listingName.lowercased()
        let tunnel: OldJSON = s.forwarding != .tunnel ? .null : .object([
            ("type", .string(s.tunnelType.name)), ("port", .int(s.tunnelPort)),
            ("checksum", .string(s.tunnelFlags.contains(.remoteChecksum) ? "remcsum" : s.tunnelFlags.contains(.checksum) ? "csum" : "nocsum")),
        ])
        return .object([
            ("address", .string(s.address.description)), ("port", .int(s.port)), ("method", .string(method)),
            ("weight", .int(s.weight)), ("upper", .int(s.upperThreshold)), ("lower", .int(s.lowerThreshold)),
            ("tunnel", tunnel), ("active", .int(r.activeConnections)), ("inactive", .int(r.inactiveConnections)),
            ("persistent", .int(r.persistentConnections)), ("stats", stats(r.stats)),
        ])
    }

    static func stats(_ s: Stats) -> OldJSON {
        .object([
            ("connections", .int(s.connections)), ("packets_in", .int(s.packetsIn)), ("packets_out", .int(s.packetsOut)),
            ("bytes_in", .int(s.bytesIn)), ("bytes_out", .int(s.bytesOut)), ("cps", .int(s.connectionsPerSecond)),
            ("pps_in", .int(s.packetsInPerSecond)), ("pps_out", .int(s.packetsOutPerSecond)),
            ("bps_in", .int(s.bytesInPerSecond)), ("bps_out", .int(s.bytesOutPerSecond)),
        ])
    }

    static func sync(_ d: SyncDaemon) -> OldJSON {
        .object([
            ("role", .string(d.role.name)), ("interface", .string(d.interface)), ("id", .int(d.syncID)),
            ("maxlen", .int(d.maxLength)), ("group", d.group.map { .string($0.description) } ?? .null),
            ("port", .int(d.port)), ("ttl", .int(d.ttl)),
        ])
    }

    static func connection(_ c: Connection) -> OldJSON {
        .object([
            ("protocol", .string(c.protocolName.lowercased())),
            ("client", .string(c.client.description)), ("client_port", .int(c.clientPort)),
            ("virtual", .string(c.virtual.description)), ("virtual_port", .int(c.virtualPort)),
            ("real", .string(c.destination.description)), ("real_port", .int(c.destinationPort)),
            ("state", .string(c.state)), ("expires", .int(c.expires)),
        ])
    }
}

enum OldRunningConfig {
    static func render(table: IPVSTable, groups: [PortGroup], timeouts: Timeouts?, daemons: [SyncDaemon],
                       sysctls: [(String, String)], defaultTimeouts: Bool = false) -> String {
        var out = "# lvsh running configuration\n"
        if !sysctls.isEmpty {
            out += "\n"
            for (name, value) in sysctls {
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
            out += "\nservice \(ref) \(describe(s.service))\n"
            for r in IPVSAdmSorting.realServers(s.realServers) {
                let a = r.server.address
                let addr = a.family == .v6 ? "[\(a)]:\(r.server.port)" : "\(a):\(r.server.port)"
                out += "real \(ref) \(addr) \(describe(r.server))\n"
            }
        }
        return out
    }

    static func reference(_ key: ServiceKey, _ groups: [UInt32: PortGroup]) -> String {
        switch key {
        case .inet(let p, let a, let port):
            return "\(p) \(a.family == .v6 ? "[\(a)]" : "\(a)"):\(port)"
        case .fwmark(let m, let f):
            if let g = groups[m], g.families.contains(f), g.families.count == 1 || f == .v4 || !g.families.contains(.v4) {
                return g.name
            }
            return "fwmark \(m)\(f == .v6 ? " ipv6" : "")"
        }
    }

    /// ServiceCommands.describe before step 6.
    static func describe(_ s: VirtualService) -> String {
        var parts = ["scheduler \(s.scheduler)"]
        if s.isPersistent {
            parts.append("persistent \(s.timeout)")
            if s.key.family == .v4 && s.netmask != 0xffff_ffff { parts.append("netmask \(IPAddress(v4: s.netmask))") }
            if s.key.family == .v6 && s.netmask != 128 { parts.append("netmask \(s.netmask)") }
        }
        if let pe = s.persistenceEngine { parts.append("pe \(pe)") }
        for f in ServiceCommands.flagWords where s.flags.contains(f.flag) && f.word.hasPrefix(s.scheduler + "-") { parts.append(f.word) }
        if s.flags.contains(.onePacket) { parts.append("one-packet") }
        return parts.joined(separator: " ")
    }

    /// RealServerCommands.describe before step 6.
    static func describe(_ r: RealServer) -> String {
        var parts = [RealServerCommands.methods.first { $0.method == r.forwarding }?.word ?? r.forwarding.listingName.lowercased(), "weight \(r.weight)"]
        if r.upperThreshold != 0 { parts.append("upper \(r.upperThreshold)") }
        if r.lowerThreshold != 0 { parts.append("lower \(r.lowerThreshold)") }
        if r.forwarding == .tunnel {
            if r.tunnelType != .ipip { parts.append("tun-type \(r.tunnelType.name)") }
            if r.tunnelPort != 0 { parts.append("tun-port \(r.tunnelPort)") }
            if r.tunnelFlags.contains(.remoteChecksum) { parts.append("tun-remcsum") } else if r.tunnelFlags.contains(.checksum) { parts.append("tun-csum") }
        }
        return parts.joined(separator: " ")
    }
}
