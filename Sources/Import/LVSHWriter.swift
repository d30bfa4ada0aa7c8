import LVSModel

/// One lvsh service made from keepalived: a virtual server, one entry of its group, or (with groups)
/// a port group carrying several of them.
struct ServiceUnit {
    /// How lvsh commands name it: "tcp 10.0.0.1:80", "fwmark 1", "web".
    var ref: String
    var family: IPAddress.Family
    /// tcp, udp or sctp; nil for fwmark services.
    var proto: String?
    /// Whether IPVS sees a fwmark service (real server ports 0 mean "the packet's port").
    var marks: Bool
    /// The virtual port for inet services.
    var port: UInt16 = 0
    /// Real servers get port 0, the packet's own (virtual servers merged across ports).
    var portsFollow = false
    /// The keepalived virtual server (the first, when several were merged).
    var vs: VirtualServerDef
    /// Every keepalived virtual server it stands for, with the port its checks probed by default.
    var sources: [(vs: VirtualServerDef, port: UInt16)]
    var comment: String
    /// `group ...` when the unit is a port group.
    var groupLine: String?
}

/// What `lvsh import keepalived` makes of a configuration.
public struct ImportResult: Sendable {
    /// The lvsh configuration (stdout).
    public var text: String
    /// One line per directive not carried, and per difference in meaning (stderr).
    public var warnings: [String]
    /// What was merged into port groups (stderr).
    public var notes: [String]
}

/// Maps a `KeepalivedConfig` onto the lvsh language (the mapping table is in the README).
struct LVSHWriter {
    let config: KeepalivedConfig
    let merge: Bool
    var warnings: [String] = []
    var notes: [String] = []
    /// Check definitions by their options, in order: the text after `check NAME`.
    var checks: [(name: String, options: String)] = []
    var checkNames: [String: String] = [:]

    init(config: KeepalivedConfig, merge: Bool) {
        self.config = config
        self.merge = merge
    }

    mutating func warn(_ place: SourcePlace, _ text: String) {
        warnings.append("\(place): warning: \(text)")
    }

    mutating func write(source: String) throws(LVSError) -> String {
        let units = try self.units()
        var body: [String] = []
        var groups: [String] = []
        for unit in units {
            if let g = unit.groupLine { groups.append(g) }
            body.append(try service(unit))
        }
        var out = "# lvsh configuration made by `lvsh import keepalived` from \(source)\n"
        out += "# Apply it with `lvsh apply FILE`; its checks run under `lvsh daemon FILE`.\n"
        if let t = config.timeouts {
            out += "\ntimeout" + (t.tcp.map { " tcp \($0)" } ?? "") + (t.tcpfin.map { " tcpfin \($0)" } ?? "") + (t.udp.map { " udp \($0)" } ?? "") + "\n"
        }
        if let d = config.syncDaemon { out += syncDaemon(d) }
        if !checks.isEmpty {
            out += "\n"
            for c in checks { out += "check \(c.name) \(c.options)\n" }
        }
        if !groups.isEmpty { out += "\n" + groups.joined(separator: "\n") + "\n" }
        for b in body { out += "\n" + b }
        return out
    }

    mutating func syncDaemon(_ d: SyncDaemonDef) -> String {
        if let inst = d.instance, config.vrrpInstances.contains(inst) {
            warn(d.place, "`lvs_sync_daemon \(d.interface) \(inst)` is not carried: it follows VRRP instance \(inst) (master daemon while master, backup otherwise), which stays with keepalived; start lvsh's with `sync master|backup interface \(d.interface)` from keepalived's notify scripts")
            return ""
        }
        if let inst = d.instance {
            warn(d.place, "lvs_sync_daemon names VRRP instance \(inst), which this configuration does not define: both daemons run always, as keepalived does then")
        }
        var options = " interface \(LVSHText.word(d.interface)) id \(d.id ?? 0)"
        if let m = d.maxlen { options += " maxlen \(m)" }
        if let g = d.group { options += " group \(g)" }
        if let p = d.port { options += " port \(p)" }
        if let t = d.ttl { options += " ttl \(t)" }
        return "\nsync master\(options)\nsync backup\(options)\n"
    }

    // MARK: units

    /// The family of a fwmark virtual server: ip_family, else its real (or sorry) servers'.
    func family(of vs: VirtualServerDef) -> IPAddress.Family {
        if let f = vs.family { return f }
        let direct = vs.reals.first { ($0.forwarding ?? vs.forwarding)?.method != .tun }
        return direct?.address.family ?? vs.sorry?.address.family ?? vs.reals.first?.address.family ?? .v4
    }

    mutating func proto(_ vs: VirtualServerDef) -> String {
        if let p = vs.proto { return p }
        warn(vs.place, "virtual server without `protocol`: keepalived makes it UDP, and so does this import")
        return "udp"
    }

    mutating func units() throws(LVSError) -> [ServiceUnit] {
        var units: [ServiceUnit] = []
        var nextMark = config.nftablesStartMark
        var groupNames: Set<String> = []
        func uniqueName(_ base: String) -> String {
            var n = base, k = 2
            while groupNames.contains(n) { n = "\(base)-\(k)"; k += 1 }
            groupNames.insert(n)
            return n
        }
        for vs in config.virtualServers {
            let place = "virtual_server at \(vs.place)"
            switch vs.target {
            case .address(let a, let port):
                let p = proto(vs)
                units.append(ServiceUnit(ref: "\(p) \(LVSHText.endpoint(a, port))", family: a.family, proto: p, marks: false,
                                         port: port, vs: vs, sources: [(vs, port)], comment: "# \(place)"))
            case .fwmark(let m):
                let f = family(of: vs)
                if vs.proto != nil { warn(vs.place, "`protocol` of a fwmark virtual server is not carried: keepalived ignores it too") }
                units.append(ServiceUnit(ref: "fwmark \(m)\(f == .v6 ? " ipv6" : "")", family: f, proto: nil, marks: true,
                                         vs: vs, sources: [(vs, 0)], comment: "# \(place)"))
            case .group(let name):
                guard let g = config.group(named: name) else {
                    throw .badInput("\(vs.place): `virtual_server group \(name)`: there is no virtual_server_group \(name)")
                }
                // Entries without a port (every port: persistent) cannot join a port group; they stay services.
                let addressEntries = g.entries.compactMap { e -> (IPAddress, IPAddress, UInt16, SourcePlace)? in
                    if case .addresses(let a, let b, let port, let place) = e, port != 0 { return (a, b, port, place) }
                    return nil
                }
                let asGroup = (merge || config.nftablesIPVS != nil) && !addressEntries.isEmpty
                if asGroup {
                    let p = proto(vs)
                    var parts: [String] = []
                    var families: Set<IPAddress.Family> = []
                    for (a, b, port, place) in addressEntries {
                        let list = try addresses(a, b, place)
                        families.insert(a.family)
                        parts.append("vip \(list.map(\.description).joined(separator: ",")) \(p) \(port)")
                    }
                    let groupName = uniqueName(LVSHText.name(name + (p == "tcp" ? "" : "-\(p)"), fallback: "vsg"))
                    // `group` takes one set of addresses; each further entry is a `group NAME add`.
                    var line = "group \(groupName) \(parts[0])"
                    if config.nftablesIPVS != nil {
                        line += " mark \(nextMark)"
                        notes.append("\(vs.place): virtual_server group \(name) (\(p)) → group \(groupName) mark \(nextMark), the mark keepalived's nftables_ipvs gives it")
                        nextMark += 1
                    } else {
                        notes.append("\(vs.place): virtual_server group \(name) (\(p)): its \(addressEntries.count) address entr\(addressEntries.count == 1 ? "y" : "ies") → port group \(groupName), one fwmark service")
                    }
                    for part in parts.dropFirst() { line += "\ngroup \(groupName) add \(part)" }
                    let f = families.count == 1 ? families.first! : .v4
                    units.append(ServiceUnit(ref: groupName, family: f, proto: p, marks: true, vs: vs,
                                             sources: [(vs, addressEntries.count == 1 ? addressEntries[0].2 : 0)],
                                             comment: "# \(place), group \(name)", groupLine: line))
                }
                for e in g.entries {
                    switch e {
                    case .fwmark(let m, let fam, _):
                        let f = fam ?? vs.family ?? family(of: vs)
                        units.append(ServiceUnit(ref: "fwmark \(m)\(f == .v6 ? " ipv6" : "")", family: f, proto: nil, marks: true,
                                                 vs: vs, sources: [(vs, 0)], comment: "# \(place), group \(name): fwmark \(m)"))
                    case .addresses(let a, let b, let port, let ePlace) where !asGroup || port == 0:
                        let p = proto(vs)
                        for address in try addresses(a, b, ePlace) {
                            units.append(ServiceUnit(ref: "\(p) \(LVSHText.endpoint(address, port))", family: address.family, proto: p,
                                                     marks: false, port: port, vs: vs, sources: [(vs, port)],
                                                     comment: "# \(place), group \(name): \(address) \(port)"))
                        }
                    default: break
                    }
                }
            }
        }
        return merge ? mergePorts(units, uniqueName) : units
    }

    /// The addresses of a range (at most 65,536).
    func addresses(_ a: IPAddress, _ b: IPAddress, _ place: SourcePlace) throws(LVSError) -> [IPAddress] {
        if a.family == .v4 {
            guard b.v4Value - a.v4Value < 65_536 else { throw .badInput("\(place): a range of more than 65,536 addresses") }
            return (a.v4Value...b.v4Value).map { IPAddress(v4: $0) }
        }
        guard a.high == b.high, b.low - a.low < 65_536 else { throw .badInput("\(place): a range of more than 65,536 addresses") }
        return (a.low...b.low).map { IPAddress(v6High: a.high, low: $0) }
    }
}
