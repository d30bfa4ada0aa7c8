/// The kernel settings lvsh knows: their names, what values they take, and why they matter to LVS.
public struct SysctlSpec: Hashable, Sendable {
    /// What a sysctl accepts.
    public enum Kind: Hashable, Sendable {
        case boolean
        case integer(ClosedRange<Int64>)
        /// One of a few numbers, each with a meaning.
        case choice([Int64])
        /// Two integers ("3 50"), as sync_threshold takes.
        case pair
        /// A CPU list such as "0-3,8" (or empty).
        case cpuList
    }

    public var name: String
    /// The short name the shell accepts: `ip_forward`, `conntrack`, `expire_nodest_conn`.
    public var shortName: String
    public var kind: Kind
    public var help: String

    /// Checks a value and writes it as the kernel wants it (on/off become 1/0).
    public func normalize(_ value: String) throws(LVSError) -> String {
        switch kind {
        case .boolean:
            switch value.lowercased() {
            case "1", "on", "yes", "true": return "1"
            case "0", "off", "no", "false": return "0"
            default: throw .badInput("\(name) is on or off (1 or 0), not '\(Shown.word(value))'")
            }
        case .integer(let r):
            guard let n = Int64(value), r.contains(n) else {
                throw .badInput("\(name) takes a whole number from \(r.lowerBound) to \(r.upperBound), not '\(Shown.word(value))'")
            }
            return String(n)
        case .choice(let values):
            guard let n = Int64(value), values.contains(n) else {
                throw .badInput("\(name) takes one of \(values.map(String.init).joined(separator: ", ")), not '\(Shown.word(value))'")
            }
            return String(n)
        case .pair:
            let parts = value.split(whereSeparator: { $0 == " " || $0 == "," })
            guard parts.count == 2, let a = Int64(parts[0]), let b = Int64(parts[1]), a >= 0, b > a else {
                throw .badInput("\(name) takes two numbers, threshold and period, e.g. \"3 50\" (period larger), not '\(Shown.word(value))'")
            }
            return "\(a) \(b)"
        case .cpuList:
            let ok = value.allSatisfy { $0.isNumber || $0 == "," || $0 == "-" }
            guard ok else { throw .badInput("\(name) takes a CPU list such as 0-3,8, not '\(Shown.word(value))'") }
            return value
        }
    }
}

/// Every sysctl lvsh manages or explains.
public enum SysctlCatalog {
    private static func vs(_ short: String, _ kind: SysctlSpec.Kind, _ help: String) -> SysctlSpec {
        SysctlSpec(name: "net.ipv4.vs." + short, shortName: short, kind: kind, help: help)
    }

    public static let all: [SysctlSpec] = [
        SysctlSpec(name: "net.ipv4.ip_forward", shortName: "ip_forward", kind: .boolean,
                   help: "forward IPv4 packets: NAT real servers' replies pass through the director"),
        SysctlSpec(name: "net.ipv6.conf.all.forwarding", shortName: "ipv6_forwarding", kind: .boolean,
                   help: "forward IPv6 packets: needed for IPv6 NAT real servers"),
        SysctlSpec(name: "net.ipv4.conf.all.arp_ignore", shortName: "arp_ignore", kind: .choice([0, 1, 2, 3, 4, 5, 8]),
                   help: "real servers (DR/TUN): 1 answers ARP only for addresses on the asking interface, hiding the VIP on lo"),
        SysctlSpec(name: "net.ipv4.conf.all.arp_announce", shortName: "arp_announce", kind: .choice([0, 1, 2]),
                   help: "real servers (DR/TUN): 2 never announces the VIP as an ARP source"),
        SysctlSpec(name: "net.ipv4.conf.all.rp_filter", shortName: "rp_filter", kind: .choice([0, 1, 2]),
                   help: "real servers (TUN): 0 accepts tunnelled packets whose source is not routed back via tunl0"),
        vs("am_droprate", .integer(0...Int64(Int32.max)), "drop rate in the drop_packet defence mode"),
        vs("amemthresh", .integer(0...Int64(Int32.max)), "available-memory threshold (pages) of the defence modes"),
        vs("backup_only", .boolean, "a backup sync daemon's director does not balance traffic itself"),
        vs("cache_bypass", .boolean, "send packets with no real server straight to their destination"),
        vs("conn_reuse_mode", .choice([0, 1, 2]), "how a new connection reusing a port of an old one is scheduled"),
        vs("conntrack", .boolean, "keep netfilter conntrack entries for IPVS connections: needed when stateful rules or SNAT meet IPVS traffic"),
        vs("drop_entry", .choice([0, 1, 2, 3]), "defence: randomly drop connection entries under memory pressure"),
        vs("drop_packet", .choice([0, 1, 2, 3]), "defence: drop packets under memory pressure"),
        vs("expire_nodest_conn", .boolean, "expire a connection at once when its real server is removed, instead of dropping its packets until timeout"),
        vs("expire_quiescent_template", .boolean, "expire persistence templates of a weight-0 real server, so draining works with persistence"),
        vs("ignore_tunneled", .boolean, "do not balance packets that arrived through a tunnel"),
        vs("nat_icmp_send", .boolean, "send ICMP errors for NAT connections whose real server is gone"),
        vs("pmtu_disc", .boolean, "path MTU discovery for tunnelled packets"),
        vs("schedule_icmp", .boolean, "schedule ICMP packets that arrive for a VIP"),
        vs("secure_tcp", .choice([0, 1, 2, 3]), "defence: stricter TCP state timeouts under memory pressure"),
        vs("sloppy_tcp", .boolean, "balance TCP packets that start mid-connection (e.g. after a failover)"),
        vs("sloppy_sctp", .boolean, "balance SCTP packets that start mid-association"),
        vs("snat_reroute", .boolean, "re-route NAT replies after masquerading (for policy routing)"),
        vs("sync_persist_mode", .boolean, "sync persistent connections' templates only"),
        vs("sync_ports", .integer(1...128), "UDP ports (threads) the sync daemon uses"),
        vs("sync_qlen_max", .integer(1...Int64(Int32.max)), "how many sync messages may queue"),
        vs("sync_refresh_period", .integer(0...Int64(Int32.max)), "seconds between resyncs of an unchanged connection"),
        vs("sync_retries", .integer(0...3), "how often a sync message for a connection is resent"),
        vs("sync_sock_size", .integer(0...Int64(Int32.max)), "the sync socket's buffer size"),
        vs("sync_threshold", .pair, "sync a connection after THRESHOLD packets, then every PERIOD packets"),
        vs("sync_version", .choice([0, 1]), "sync protocol version (1 since 2.6.39)"),
        vs("lblc_expiration", .integer(1...Int64(Int32.max)), "seconds before an unused lblc entry expires"),
        vs("lblcr_expiration", .integer(1...Int64(Int32.max)), "seconds before an unused lblcr entry expires"),
        vs("run_estimation", .boolean, "compute the rate estimates shown by show services rate"),
        vs("est_cpulist", .cpuList, "CPUs the rate estimators may run on"),
        vs("est_nice", .integer(-20...19), "nice value of the rate-estimation threads"),
    ]

    /// A sysctl by its full or short name.
    public static func spec(_ name: String) -> SysctlSpec? {
        all.first { $0.name == name || $0.shortName == name }
    }

    /// The one-line advice for a name that is not in the catalog.
    public static func unknown(_ name: String) -> LVSError {
        let close = all.filter { $0.shortName.contains(name) || name.contains($0.shortName) }.map(\.shortName)
        return .badInput("lvsh does not know the sysctl '\(Shown.word(name))'" + (close.isEmpty ? "" : "; did you mean \(close.joined(separator: ", "))?")
                         + " (`show sysctl` lists the ones it knows)")
    }
}

/// What lvsh recommends for a sysctl given a configuration, and why.
public struct SysctlAdvice: Hashable, Sendable {
    public var name: String
    public var recommended: String
    public var reason: String

    /// The settings the table needs: forwarding for NAT, template expiry for persistence with weight 0
    /// (written, or set by `health`).
    public static func needs(of table: IPVSTable, health: HealthConfig? = nil) -> [SysctlAdvice] {
        var out: [SysctlAdvice] = []
        // One walk over the real servers, without a copy of each (a table has tens of thousands).
        var natV4 = false, natV6 = false, quiescent = false, anyReal = false
        for s in table.services {
            let persistent = s.service.isPersistent
            for r in s.realServers {
                anyReal = true
                if r.server.forwarding == .masquerade {
                    if r.server.address.family == .v4 { natV4 = true } else { natV6 = true }
                }
                if persistent && r.server.weight == 0 { quiescent = true }
            }
        }
        if natV4 {
            out.append(SysctlAdvice(name: "net.ipv4.ip_forward", recommended: "1", reason: "IPv4 NAT real servers: their replies pass through the director"))
        }
        if natV6 {
            out.append(SysctlAdvice(name: "net.ipv6.conf.all.forwarding", recommended: "1", reason: "IPv6 NAT real servers: their replies pass through the director"))
        }
        if quiescent {
            out.append(SysctlAdvice(name: "net.ipv4.vs.expire_quiescent_template", recommended: "1",
                                    reason: "a persistent service has a weight-0 real server: without this its clients keep coming back until their templates expire"))
        } else if let health, health.actsOnWeights {
            let persistent = Set(table.services.lazy.filter(\.service.isPersistent).map(\.service.key))
            if health.persistentServiceSetToWeight0(isPersistent: persistent.contains) != nil {
                out.append(SysctlAdvice(name: "net.ipv4.vs.expire_quiescent_template", recommended: "1",
                                        reason: "health or maintenance sets real servers of a persistent service to weight 0: without this their clients keep coming back until their templates expire"))
            }
        }
        if anyReal {
            out.append(SysctlAdvice(name: "net.ipv4.vs.expire_nodest_conn", recommended: "1",
                                    reason: "connections to a removed real server are expired at once rather than black-holed until they time out"))
        }
        return out
    }
}
