import LVSModel
import Listings

/// `show groups --json`: the frozen shape of DESIGN.md.
enum GroupsJSON {
    static func render(_ groups: [PortGroup]) -> JSON {
        .object([("groups", .array(groups.map(group)))])
    }

    static func group(_ g: PortGroup) -> JSON {
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
}

/// `show services --json`: every service with its settings, real servers and counters.
enum ServicesJSON {
    static func render(_ table: IPVSTable, groups: [PortGroup]) -> JSON {
        let names = Dictionary(groups.map { ($0.mark, $0.name) }, uniquingKeysWith: { a, _ in a })
        return .object([("services", .array(IPVSAdmSorting.services(table.services).map { service($0, names) }))])
    }

    static func service(_ s: ServiceStatus, _ names: [UInt32: String]) -> JSON {
        let v = s.service
        var fields: [(String, JSON)]
        switch v.key {
        case .inet(let p, let a, let port):
            fields = [("protocol", .string(p.description)), ("address", .string(a.description)), ("port", .int(port)),
                      ("fwmark", .null), ("family", .string(a.family == .v4 ? "ipv4" : "ipv6")), ("group", .null)]
        case .fwmark(let m, let f):
            fields = [("protocol", .null), ("address", .null), ("port", .null), ("fwmark", .int(m)),
                      ("family", .string(f == .v4 ? "ipv4" : "ipv6")), ("group", names[m].map(JSON.string) ?? .null)]
        }
        let netmask: JSON = v.key.family == .v4 ? .string(IPAddress(v4: v.netmask).description) : .int(v.netmask)
        fields += [
            ("scheduler", .string(v.scheduler)),
            ("persistent", v.isPersistent ? .int(v.timeout) : .null),
            ("netmask", netmask),
            ("pe", v.persistenceEngine.map(JSON.string) ?? .null),
            ("flags", .array(flags(v).map(JSON.string))),
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

    static func real(_ r: RealServerStatus) -> JSON {
        let s = r.server
        let method = RealServerCommands.methods.first { $0.method == s.forwarding }?.word ?? s.forwarding.listingName.lowercased()
        let tunnel: JSON = s.forwarding != .tunnel ? .null : .object([
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

    static func stats(_ s: Stats) -> JSON {
        .object([
            ("connections", .int(s.connections)), ("packets_in", .int(s.packetsIn)), ("packets_out", .int(s.packetsOut)),
            ("bytes_in", .int(s.bytesIn)), ("bytes_out", .int(s.bytesOut)), ("cps", .int(s.connectionsPerSecond)),
            ("pps_in", .int(s.packetsInPerSecond)), ("pps_out", .int(s.packetsOutPerSecond)),
            ("bps_in", .int(s.bytesInPerSecond)), ("bps_out", .int(s.bytesOutPerSecond)),
        ])
    }
}

/// One sync daemon in `show sync --json`.
enum SyncJSON {
    static func render(_ d: SyncDaemon) -> JSON {
        .object([
            ("role", .string(d.role.name)), ("interface", .string(d.interface)), ("id", .int(d.syncID)),
            ("maxlen", .int(d.maxLength)), ("group", d.group.map { .string($0.description) } ?? .null),
            ("port", .int(d.port)), ("ttl", .int(d.ttl)),
        ])
    }
}

/// One connection in `show connections --json`.
enum ConnectionJSON {
    static func render(_ c: Connection) -> JSON {
        .object([
            ("protocol", .string(c.protocolName.lowercased())),
            ("client", .string(c.client.description)), ("client_port", .int(c.clientPort)),
            ("virtual", .string(c.virtual.description)), ("virtual_port", .int(c.virtualPort)),
            ("real", .string(c.destination.description)), ("real_port", .int(c.destinationPort)),
            ("state", .string(c.state)), ("expires", .int(c.expires)),
        ])
    }
}
