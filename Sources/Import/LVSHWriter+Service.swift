import LVSModel

extension LVSHWriter {
    /// The forwarding of a real server: its own, else its virtual server's, else NAT (keepalived's default).
    func forwarding(_ r: RealServerDef, _ vs: VirtualServerDef) -> Forwarding {
        r.forwarding ?? vs.forwarding ?? Forwarding(method: .nat)
    }

    /// The port of a real server in the lvsh service, by keepalived's rules: NAT keeps its port (or
    /// takes the virtual port); DR and TUN use the virtual port, or 0 (the packet's) for fwmark services.
    func realPort(_ r: RealServerDef, _ u: ServiceUnit) -> UInt16 {
        let nat = forwarding(r, u.vs).method == .nat
        if u.portsFollow { return 0 }
        if u.marks { return nat ? r.port : 0 }
        return nat && r.port != 0 ? r.port : u.port
    }

    /// The port keepalived's checkers of a real server probe when no connect_port is given.
    func probePort(_ r: RealServerDef, _ vs: VirtualServerDef, virtualPort: UInt16) -> UInt16 {
        switch vs.target {
        case .group: return r.port != 0 ? r.port : virtualPort
        case .fwmark: return forwarding(r, vs).method == .nat ? r.port : 0
        case .address: return forwarding(r, vs).method == .nat && r.port != 0 ? r.port : virtualPort
        }
    }

    /// The lines of one service: comment, `service`, `real`s, check bindings and health policy.
    mutating func service(_ u: ServiceUnit) throws(LVSError) -> String {
        let vs = u.vs
        var out = u.comment + "\n"
        var options = "scheduler \(vs.scheduler ?? "wlc")"
        var persistence = vs.persistence
        if !u.marks && u.port == 0 && persistence == nil {
            warn(vs.place, "a virtual server without a port must be persistent: keepalived makes it `persistence_timeout 360`, and so does this import")
            persistence = 360
        }
        if let p = persistence { options += " persistent \(p)" }
        if let g = vs.granularity {
            if u.family == .v6, g.contains(".") {
                warn(vs.place, "persistence_granularity \(g) is not carried: an IPv6 service takes a prefix length")
            } else if case .group = vs.target {
                // Seen in the lab (import-keepalived-diff.sh): keepalived 2.2.7 gives the kernel no
                // netmask for the services of a virtual_server group (IPv4, IPv6, fwmark entries).
                warn(vs.place, "persistence_granularity \(g) is not carried: keepalived 2.2.7 does not apply it to the services of a virtual_server group either (write `netmask \(g)` on the service to have it)")
            } else {
                options += " netmask \(LVSHText.word(g))"
            }
        }
        if let e = vs.engine { options += " pe \(LVSHText.word(e))" }
        let scheduler = vs.scheduler ?? "wlc"
        for flag in vs.flags {
            switch flag {
            case "ops":
                if let p = u.proto, p != "udp" {
                    warn(vs.place, "`ops` is not carried: one-packet scheduling is for UDP and fwmark services (keepalived drops it too)")
                } else {
                    options += " one-packet"
                }
            case "flag-1", "flag-2":
                let meaning = flag == "flag-1" ? "fallback" : "port"
                if scheduler == "sh" || scheduler == "mh" { options += " \(scheduler)-\(meaning)" } else {
                    warn(vs.place, "`\(flag)` is not carried: lvsh names scheduler flags for sh and mh only (\(scheduler) has none)")
                }
            case "flag-3":
                warn(vs.place, "`flag-3` is not carried: no mainline scheduler uses it, and lvsh has no word for it")
            default:
                if flag.hasPrefix(scheduler + "-") { options += " \(flag)" } else {
                    warn(vs.place, "`\(flag)` is not carried: it is a flag of the \(flag.prefix(2)) scheduler, and this service uses \(scheduler) (keepalived ignores it too)")
                }
            }
        }
        out += "service \(u.ref) \(options)\n"

        var reals: [(RealServerDef, UInt16)] = []
        var seen: Set<String> = []
        for r in vs.reals {
            let f = forwarding(r, vs)
            if r.address.family != u.family && f.method != .tun {
                warn(r.place, "real_server \(r.address) is not carried: it is not of the virtual server's family (keepalived skips it too)")
                continue
            }
            let port = realPort(r, u)
            guard seen.insert(LVSHText.endpoint(r.address, port)).inserted else {
                warn(r.place, "real_server \(r.address) \(port) is not carried: it is listed twice (keepalived keeps the first)")
                continue
            }
            reals.append((r, port))
            var line = "real \(u.ref) \(LVSHText.endpoint(r.address, port)) \(f.method.rawValue)"
            if f.method == .tun {
                if let t = f.tunnelType { line += " tun-type \(t)" }
                if let p = f.tunnelPort { line += " tun-port \(p)" }
                if let c = f.checksum, f.tunnelType == "gue" || f.tunnelType == "gre" { line += " tun-\(c)" }
            }
            line += " weight \(r.weight ?? vs.weight)"
            if let upper = r.upper { line += " upper \(upper)" }
            if let lower = r.lower { line += " lower \(lower)" }
            out += line + "\n"
        }
        out += try health(u, reals)
        return out
    }

    /// Check bindings and the health policy of one service.
    mutating func health(_ u: ServiceUnit, _ reals: [(RealServerDef, UInt16)]) throws(LVSError) -> String {
        let vs = u.vs
        var out = ""
        var lists: [[String]] = []
        for (r, port) in reals {
            var names: [String] = []
            for source in u.sources {
                guard let same = source.vs.reals.first(where: { $0.address == r.address }) else { continue }
                let probe = probePort(same, source.vs, virtualPort: source.port)
                for n in try checkNames(same, source.vs, realPort: port, probePort: probe) where !names.contains(n) { names.append(n) }
            }
            lists.append(names)
            if let i = r.inhibit, i != vs.inhibit {
                warn(r.place, "inhibit_on_failure \(i ? "on" : "off") of one real server is not carried: lvsh's on-failure is per service, here \(vs.inhibit ? "weight0" : "remove") from the virtual server")
            }
            let alphas = [r.timing.alpha] + r.checkers.map(\.timing.alpha)
            if alphas.contains(where: { $0 != nil && $0 != vs.alpha }) {
                warn(r.place, "alpha of one real server or checker is not carried: lvsh's alpha is per service, here \(vs.alpha ? "on" : "off") from the virtual server")
            }
        }
        let checked = lists.contains { !$0.isEmpty }
        if checked {
            if lists.allSatisfy({ $0 == lists[0] }) {
                for n in lists[0] { out += "service \(u.ref) check \(n)\n" }
            } else {
                for ((r, port), names) in zip(reals, lists) {
                    for n in names { out += "real \(u.ref) \(LVSHText.endpoint(r.address, port)) check \(n)\n" }
                }
            }
        }
        var policy: [String] = []
        if checked || vs.sorry != nil || vs.quorum != nil {
            if !vs.inhibit { policy.append("on-failure remove") }
            if !vs.alpha { policy.append("alpha off") }
        }
        let weights = reals.reduce(UInt64(0)) { $0 + UInt64($1.0.weight ?? vs.weight) }
        if vs.quorum != nil || vs.sorry != nil {
            var quorum = UInt64(vs.quorum ?? 1)
            if quorum > weights {
                if vs.quorum != nil {
                    warn(vs.place, "quorum \(quorum) exceeds the real servers' total weight \(weights): keepalived lowers it to \(weights), and so does this import")
                }
                quorum = weights
            }
            if quorum >= 1 {
                var hysteresis = UInt64(vs.hysteresis ?? 0)
                if hysteresis >= quorum {
                    warn(vs.place, "hysteresis \(hysteresis) is not below quorum \(quorum): keepalived lowers it to \(quorum - 1), and so does this import")
                    hysteresis = quorum - 1
                }
                policy.append("quorum \(quorum)")
                if hysteresis > 0 { policy.append("hysteresis \(hysteresis)") }
                if let s = vs.sorry { policy += sorry(s, u, reals) }
            } else if let s = vs.sorry {
                warn(s.place, "sorry_server is not carried: the service has no real server weight to make a quorum of")
            }
        }
        if !policy.isEmpty { out += "service \(u.ref) \(policy.joined(separator: " "))\n" }
        return out
    }

    /// `sorry ADDRESS[:PORT]`, or nothing with a warning.
    mutating func sorry(_ s: SorryDef, _ u: ServiceUnit, _ reals: [(RealServerDef, UInt16)]) -> [String] {
        let vs = u.vs
        let f = s.forwarding ?? vs.forwarding ?? Forwarding(method: .nat)
        guard s.address.family == u.family else {
            warn(s.place, "sorry_server \(s.address) is not carried: it is not of the service's family")
            return []
        }
        if s.inhibit {
            warn(s.place, "sorry_server_inhibit is not carried: lvsh's sorry server is in the service only while quorum is lost")
        }
        if let first = reals.first.map({ forwarding($0.0, vs) }), first.method != f.method {
            warn(s.place, "the sorry server's forwarding (\(f.method.rawValue)) is not carried: lvsh forwards to it as to the first real server (\(first.method.rawValue))")
        }
        let port: UInt16 = u.marks ? (f.method == .nat ? s.port : 0) : (f.method == .nat && s.port != 0 ? s.port : u.port)
        if port == 0 { return ["sorry \(s.address)"] }
        return ["sorry \(LVSHText.endpoint(s.address, port))"]
    }

    // MARK: --groups

    /// With --groups, virtual servers that differ only by port (same address, protocol, settings and
    /// real servers, each real server on its virtual server's port) become one port group.
    mutating func mergePorts(_ units: [ServiceUnit], _ uniqueName: (String) -> String) -> [ServiceUnit] {
        var order: [String] = []
        var sets: [String: [Int]] = [:]
        for (i, u) in units.enumerated() {
            guard !u.marks, case .address(let a, let port) = u.vs.target, port != 0, let p = u.proto,
                  let signature = signature(u) else { continue }
            let key = "\(p) \(a) \(signature)"
            if sets[key] == nil { order.append(key) }
            sets[key, default: []].append(i)
        }
        var replaced: [Int: ServiceUnit] = [:]
        var dropped: Set<Int> = []
        for key in order {
            guard let members = sets[key], members.count > 1 else { continue }
            let first = units[members[0]]
            guard case .address(let a, _) = first.vs.target, let p = first.proto else { continue }
            let ports = members.map { units[$0].port }
            guard Set(ports).count == ports.count else { continue }
            let name = uniqueName(LVSHText.name(a.description + (p == "tcp" ? "" : "-\(p)"), fallback: "vs"))
            let places = members.map { "\(units[$0].vs.place)" }.joined(separator: ", ")
            notes.append("virtual servers \(p) \(a) ports \(ports.map(String.init).joined(separator: ",")) (\(places)) share their real servers: merged into port group \(name), one fwmark service; a real server's checks for every port now decide for all of them")
            var unit = first
            unit.ref = name
            unit.marks = true
            unit.portsFollow = true
            unit.port = 0
            unit.sources = members.map { (units[$0].vs, units[$0].port) }
            unit.comment = "# virtual_servers at \(places), merged (--groups)"
            unit.groupLine = "group \(name) vip \(a) \(p) \(ports.map(String.init).joined(separator: ","))"
            replaced[members[0]] = unit
            dropped.formUnion(members.dropFirst())
        }
        return units.indices.compactMap { i in dropped.contains(i) ? nil : replaced[i] ?? units[i] }
    }

    /// What must be equal for two virtual servers to share one fwmark service; nil when one cannot
    /// (a real server on a port of its own, a sorry server with a port).
    func signature(_ u: ServiceUnit) -> String? {
        let vs = u.vs
        if let s = vs.sorry, s.port != 0 { return nil }
        var parts = [vs.scheduler ?? "wlc", vs.flags.joined(separator: ","), "\(String(describing: vs.forwarding))",
                     "\(vs.persistence ?? 0)", vs.granularity ?? "", vs.engine ?? "", "\(vs.inhibit)", "\(vs.alpha)",
                     "\(vs.quorum ?? 0)", "\(vs.hysteresis ?? 0)", "\(vs.weight)", vs.sorry.map { "\($0.address)" } ?? ""]
        for r in vs.reals.sorted(by: { $0.address < $1.address }) {
            guard realPort(r, u) == u.port else { return nil }
            parts.append("\(r.address) \(r.weight ?? vs.weight) \(String(describing: forwarding(r, vs))) \(r.upper ?? 0) \(r.lower ?? 0) \(String(describing: r.inhibit))")
        }
        return parts.joined(separator: "|")
    }
}
