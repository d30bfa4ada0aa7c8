import LVSModel
import Listings

// The documented JSON shapes of the `show` commands, written in one pass into a TextBuffer in their
// documented key order (no tree of JSON values: `show services --json` of 10,000 services is 15 MB).
// Tests/ShellTests/JSONRendererTests keeps the former tree-building renderers as the oracle.

/// `show groups --json`: the frozen shape of DESIGN.md.
enum GroupsJSON {
    /// The document, with its newline.
    static func text(_ groups: [PortGroup]) -> String {
        TextBuffer.jsonDocument(key: "groups", groups, capacity: 64 + groups.count * 128) { group($0, into: &$1) }
    }

    static func group(_ g: PortGroup, into o: inout TextBuffer) {
        o.append("{\"name\":")
        o.jsonString(g.name)
        o.append(",\"mark\":")
        o.jsonInt(g.mark)
        o.append(",\"entries\":[")
        for (i, e) in g.entries.sorted().enumerated() {
            if i > 0 { o.byte(UInt8(ascii: ",")) }
            o.append("{\"address\":")
            if let a = e.address { o.jsonAddress(a) } else { o.append("null") }
            o.append(",\"protocol\":")
            o.jsonString(e.protocolName.description)
            o.append(",\"ports\":[")
            o.jsonInt(e.ports.lowerBound)
            o.byte(UInt8(ascii: ","))
            o.jsonInt(e.ports.upperBound)
            o.append("]}")
        }
        o.append("]}")
    }
}

/// `show services --json`: every service with its settings, real servers and counters.
enum ServicesJSON {
    /// The document, with its newline.
    static func text(_ table: IPVSTable, groups: [PortGroup]) -> String {
        let names = Dictionary(groups.map { ($0.mark, $0.name) }, uniquingKeysWith: { a, _ in a })
        let reals = table.services.reduce(0) { $0 + $1.realServers.count }
        // In listing order, by index: the table is not copied.
        return TextBuffer.jsonDocument(key: "services", IPVSAdmSorting.serviceOrder(table.services),
                                       capacity: 64 + table.services.count * 640 + reals * 400) { i, o in
            service(table.services[i], names, into: &o)
        }
    }

    static func service(_ s: ServiceStatus, _ names: [UInt32: String], into o: inout TextBuffer) {
        let v = s.service
        switch v.key {
        case .inet(let p, let a, let port):
            o.append("{\"protocol\":")
            o.jsonString(p.description)
            o.append(",\"address\":")
            o.jsonAddress(a)
            o.append(",\"port\":")
            o.jsonInt(port)
            o.append(",\"fwmark\":null,\"family\":")
            o.append(a.family == .v4 ? "\"ipv4\"" : "\"ipv6\"")
            o.append(",\"group\":null")
        case .fwmark(let m, let f):
            o.append("{\"protocol\":null,\"address\":null,\"port\":null,\"fwmark\":")
            o.jsonInt(m)
            o.append(",\"family\":")
            o.append(f == .v4 ? "\"ipv4\"" : "\"ipv6\"")
            o.append(",\"group\":")
            o.jsonString(names[m])
        }
        o.append(",\"scheduler\":")
        o.jsonString(v.scheduler)
        o.append(",\"persistent\":")
        if v.isPersistent { o.jsonInt(v.timeout) } else { o.append("null") }
        o.append(",\"netmask\":")
        if v.key.family == .v4 { o.jsonAddress(IPAddress(v4: v.netmask)) } else { o.jsonInt(v.netmask) }
        o.append(",\"pe\":")
        o.jsonString(v.persistenceEngine)
        o.append(",\"flags\":[")
        var first = true
        if v.flags.contains(.onePacket) {
            o.append("\"one-packet\"")
            first = false
        }
        for (name, flag) in Schedulers.flagNames(for: v.scheduler) where v.flags.contains(flag) {
            if !first { o.byte(UInt8(ascii: ",")) }
            o.jsonString(name)
            first = false
        }
        o.append("],\"stats\":")
        stats(s.stats, into: &o)
        o.append(",\"reals\":[")
        IPVSAdmSorting.withRealServerOrder(s.realServers) { order in
            for (n, i) in order.enumerated() {
                if n > 0 { o.byte(UInt8(ascii: ",")) }
                real(s.realServers[i], into: &o)
            }
        }
        o.append("]}")
    }

    static func real(_ r: RealServerStatus, into o: inout TextBuffer) {
        let s = r.server
        o.append("{\"address\":")
        o.jsonAddress(s.address)
        o.append(",\"port\":")
        o.jsonInt(s.port)
        o.append(",\"method\":")
        o.jsonString(RealServerCommands.methodWord(s.forwarding))
        o.append(",\"weight\":")
        o.jsonInt(s.weight)
        o.append(",\"upper\":")
        o.jsonInt(s.upperThreshold)
        o.append(",\"lower\":")
        o.jsonInt(s.lowerThreshold)
        o.append(",\"tunnel\":")
        if s.forwarding != .tunnel {
            o.append("null")
        } else {
            o.append("{\"type\":")
            o.jsonString(s.tunnelType.name)
            o.append(",\"port\":")
            o.jsonInt(s.tunnelPort)
            o.append(",\"checksum\":")
            o.append(s.tunnelFlags.contains(.remoteChecksum) ? "\"remcsum\"" : s.tunnelFlags.contains(.checksum) ? "\"csum\"" : "\"nocsum\"")
            o.byte(UInt8(ascii: "}"))
        }
        o.append(",\"active\":")
        o.jsonInt(r.activeConnections)
        o.append(",\"inactive\":")
        o.jsonInt(r.inactiveConnections)
        o.append(",\"persistent\":")
        o.jsonInt(r.persistentConnections)
        o.append(",\"stats\":")
        stats(r.stats, into: &o)
        o.byte(UInt8(ascii: "}"))
    }

    static func stats(_ s: Stats, into o: inout TextBuffer) {
        o.append("{\"connections\":")
        o.jsonInt(s.connections)
        o.append(",\"packets_in\":")
        o.jsonInt(s.packetsIn)
        o.append(",\"packets_out\":")
        o.jsonInt(s.packetsOut)
        o.append(",\"bytes_in\":")
        o.jsonInt(s.bytesIn)
        o.append(",\"bytes_out\":")
        o.jsonInt(s.bytesOut)
        o.append(",\"cps\":")
        o.jsonInt(s.connectionsPerSecond)
        o.append(",\"pps_in\":")
        o.jsonInt(s.packetsInPerSecond)
        o.append(",\"pps_out\":")
        o.jsonInt(s.packetsOutPerSecond)
        o.append(",\"bps_in\":")
        o.jsonInt(s.bytesInPerSecond)
        o.append(",\"bps_out\":")
        o.jsonInt(s.bytesOutPerSecond)
        o.byte(UInt8(ascii: "}"))
    }
}

/// `show sync --json`.
enum SyncJSON {
    /// The document, with its newline.
    static func text(_ daemons: [SyncDaemon]) -> String {
        TextBuffer.jsonDocument(key: "daemons", daemons) { daemon($0, into: &$1) }
    }

    static func daemon(_ d: SyncDaemon, into o: inout TextBuffer) {
        o.append("{\"role\":")
        o.jsonString(d.role.name)
        o.append(",\"interface\":")
        o.jsonString(d.interface)
        o.append(",\"id\":")
        o.jsonInt(d.syncID)
        o.append(",\"maxlen\":")
        o.jsonInt(d.maxLength)
        o.append(",\"group\":")
        if let g = d.group { o.jsonAddress(g) } else { o.append("null") }
        o.append(",\"port\":")
        o.jsonInt(d.port)
        o.append(",\"ttl\":")
        o.jsonInt(d.ttl)
        o.byte(UInt8(ascii: "}"))
    }
}

/// `show connections --json`: the connection table may hold millions.
enum ConnectionJSON {
    /// The document, with its newline.
    static func text(_ connections: [Connection]) -> String {
        TextBuffer.jsonDocument(key: "connections", connections, capacity: 64 + connections.count * 200) { connection($0, into: &$1) }
    }

    static func connection(_ c: Connection, into o: inout TextBuffer) {
        o.append("{\"protocol\":")
        o.jsonString(c.protocolName.lowercased())
        o.append(",\"client\":")
        o.jsonAddress(c.client)
        o.append(",\"client_port\":")
        o.jsonInt(c.clientPort)
        o.append(",\"virtual\":")
        o.jsonAddress(c.virtual)
        o.append(",\"virtual_port\":")
        o.jsonInt(c.virtualPort)
        o.append(",\"real\":")
        o.jsonAddress(c.destination)
        o.append(",\"real_port\":")
        o.jsonInt(c.destinationPort)
        o.append(",\"state\":")
        o.jsonString(c.state)
        o.append(",\"expires\":")
        o.jsonInt(c.expires)
        o.byte(UInt8(ascii: "}"))
    }
}
