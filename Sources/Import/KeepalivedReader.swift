import LVSModel

/// Reads keepalived's statements into a `KeepalivedConfig`. Everything lvsh does not carry is one
/// warning with its place; anything keepalived itself would not take inside an LVS block (an unknown
/// keyword, a bad value) is an error with its place.
struct KeepalivedReader {
    var config = KeepalivedConfig()
    var warnings: [String] = []

    typealias V = KeepalivedValues

    mutating func warn(_ s: Statement, _ why: String) {
        warnings.append("\(s.place): warning: `\(V.shown(s.words))` is not carried: \(why)")
    }

    /// The reason given for every VRRP block.
    static let vrrp = "VRRP stays with keepalived (run it for VRRP only, without virtual_server blocks)"

    mutating func read(_ statements: [Statement]) throws(LVSError) {
        // VRRP instance names first: lvs_sync_daemon may name one defined later.
        for s in statements where s.keyword == "vrrp_instance" && s.words.count > 1 { config.vrrpInstances.insert(s.words[1]) }
        for s in statements {
            switch s.keyword {
            case "global_defs": try globalDefs(try block(s))
            case "virtual_server_group": try serverGroup(s)
            case "virtual_server": try virtualServer(s)
            case "track_file", "vrrp_track_file": try trackFile(s)
            case "SSL": warn(s, "https checks use the system's trust store and no client certificate")
            case "vrrp_instance", "vrrp_sync_group", "vrrp_script", "vrrp_track_process", "track_process", "garp_group",
                 "static_ipaddress", "static_routes", "static_rules", "linkbeat_interfaces", "bfd_instance",
                 "vrrp_track_interface", "track_interface":
                warn(s, Self.vrrp)
                for e in s.block ?? [] where e.keyword == "lvs_sync_daemon_interface" {
                    warn(e, "it runs the sync daemons by this VRRP instance's state, which stays with keepalived; start lvsh's with `sync master|backup interface \(e.words.count > 1 ? e.words[1] : "IF")` from keepalived's notify scripts")
                }
            case "net_namespace", "net_namespace_ipvs", "namespace_with_ipsets", "instance", "use_pid_dir",
                 "linkbeat_use_polling", "child_wait_time":
                warn(s, "a keepalived process setting; lvsh works in the network namespace it is run in")
            default:
                warn(s, "not a keyword lvsh import knows at the top level (keepalived ignores unknown keywords too)")
            }
        }
    }

    func block(_ s: Statement) throws(LVSError) -> [Statement] {
        guard let b = s.block else { throw V.fail(s, "needs a block: `\(s.keyword) ... { ... }`") }
        return b
    }

    func noBlock(_ s: Statement) throws(LVSError) {
        if s.block != nil { throw V.fail(s, "takes no block") }
    }

    // MARK: global_defs

    mutating func globalDefs(_ body: [Statement]) throws(LVSError) {
        for s in body {
            switch s.keyword {
            case "lvs_timeouts":
                var t = TimeoutsDef(place: s.place)
                var i = 1
                guard s.words.count > 1 else { throw V.fail(s, "needs at least one of tcp, tcpfin and udp") }
                while i < s.words.count {
                    let v = try V.unsigned(s, i + 1, 1...2_147_483, what: "seconds")
                    switch s.words[i] {
                    case "tcp": t.tcp = v
                    case "tcpfin": t.tcpfin = v
                    case "udp": t.udp = v
                    default: throw V.fail(s, "'\(Shown.word(s.words[i]))' is not tcp, tcpfin or udp")
                    }
                    i += 2
                }
                config.timeouts = t
            case "lvs_sync_daemon":
                var d = SyncDaemonDef(interface: try V.argument(s, 1, "an interface"), place: s.place)
                var i = 2
                while i < s.words.count {
                    switch s.words[i] {
                    case "inst": d.instance = try V.argument(s, i + 1, "a VRRP instance"); i += 2
                    case "id": d.id = try V.unsigned(s, i + 1, 0...255); i += 2
                    case "maxlen": d.maxlen = try V.unsigned(s, i + 1, 1...65507); i += 2
                    case "port": d.port = try V.unsigned(s, i + 1, 1...65535); i += 2
                    case "ttl": d.ttl = try V.unsigned(s, i + 1, 1...255); i += 2
                    case "group": d.group = try V.address(s, i + 1); i += 2
                    default:
                        // The instance may be given without `inst`, right after the interface.
                        guard i == 2 else { throw V.fail(s, "'\(Shown.word(s.words[i]))' is not an lvs_sync_daemon option") }
                        d.instance = s.words[i]
                        i += 1
                    }
                }
                config.syncDaemon = d
            case "nftables_ipvs":
                config.nftablesIPVS = s.place
            case "nftables_ipvs_start_fwmark":
                config.nftablesStartMark = try V.unsigned(s, 1, 1...UInt64(UInt32.max))
            case "nftables_ipvs_priority":
                warn(s, "lvsh marks packets in its own table inet lvsh at priority mangle (-150)")
            case "lvs_flush":
                warn(s, "lvsh never flushes at start; `lvsh apply --prune` removes what the file does not name")
            case "lvs_flush_on_stop":
                warn(s, "lvsh daemon leaves the kernel as it is when it stops (no flush)")
            case "notification_email", "notification_email_from", "smtp_server", "smtp_helo_name", "smtp_connect_timeout",
                 "smtp_alert", "smtp_alert_vrrp", "smtp_alert_checker", "no_email_faults":
                warn(s, "lvsh sends no e-mail; alert on its metrics (lvsh_real_up) or its journal lines instead")
            case "checker_log_all_failures":
                warn(s, "lvsh logs check state changes and counts failures in lvsh_check_failures_total")
            case "router_id", "script_user", "enable_script_security", "startup_script", "startup_script_timeout",
                 "shutdown_script", "shutdown_script_timeout":
                warn(s, "a keepalived process setting")
            default:
                if s.keyword.hasPrefix("vrrp_") || s.keyword.hasPrefix("nftables") || s.keyword.hasPrefix("iptables")
                    || s.keyword.hasPrefix("bfd_") || s.keyword.hasPrefix("snmp") || s.keyword.hasPrefix("enable_snmp") {
                    warn(s, s.keyword.hasPrefix("vrrp_") || s.keyword.hasPrefix("nftables") || s.keyword.hasPrefix("iptables")
                         ? Self.vrrp : "lvsh has no such setting")
                } else {
                    warn(s, "a global_defs setting lvsh has no equivalent for")
                }
            }
        }
    }

    // MARK: virtual_server_group, track_file

    mutating func serverGroup(_ s: Statement) throws(LVSError) {
        let name = try V.argument(s, 1, "a name")
        var g = ServerGroupDef(name: name, place: s.place)
        for e in try block(s) {
            try noBlock(e)
            if e.keyword == "fwmark" {
                let mark = try V.unsigned(e, 1, 1...UInt64(UInt32.max), what: "a firewall mark")
                var family: IPAddress.Family?
                if e.words.count > 2 {
                    switch e.words[2] {
                    case "inet": family = .v4
                    case "inet6": family = .v6
                    default: throw V.fail(e, "'\(Shown.word(e.words[2]))' is not inet or inet6")
                    }
                }
                g.entries.append(.fwmark(mark, family: family, place: e.place))
            } else {
                let (first, last) = try V.addressRange(e)
                guard e.words.count <= 2 else { throw V.fail(e, "an entry is `ADDRESS[-RANGE] [PORT]` or `fwmark N`") }
                g.entries.append(.addresses(first: first, last: last, port: try V.port(e, 1), place: e.place))
            }
        }
        if g.entries.isEmpty {
            warnings.append("\(s.place): warning: virtual_server_group \(name) has no entries; keepalived removes it")
            return
        }
        config.groups.removeAll { $0.name == name }
        config.groups.append(g)
    }

    mutating func trackFile(_ s: Statement) throws(LVSError) {
        var t = TrackFileDef(name: try V.argument(s, 1, "a name"), place: s.place)
        for e in try block(s) {
            switch e.keyword {
            case "file": t.path = try V.argument(e, 1, "a file")
            case "weight":
                t.weight = try V.signed(e, 1)
                if e.words.count > 2 {
                    guard e.words[2] == "reverse" else { throw V.fail(e, "only `reverse` may follow the weight") }
                    t.reverse = true
                }
            case "init_file": warn(e, "lvsh does not create or initialise the file; create it before `lvsh daemon` starts")
            default: throw V.fail(e, "not a track_file keyword (file, weight, init_file)")
            }
        }
        config.trackFiles[t.name] = t
    }

    // MARK: virtual_server

    mutating func virtualServer(_ s: Statement) throws(LVSError) {
        let first = try V.argument(s, 1, "an address, `fwmark N` or `group NAME`")
        let target: VirtualServerDef.Target
        switch first {
        case "fwmark": target = .fwmark(try V.unsigned(s, 2, 1...UInt64(UInt32.max), what: "a firewall mark"))
        case "group": target = .group(try V.argument(s, 2, "the name of a virtual_server_group"))
        default: target = .address(try V.address(s, 1), try V.port(s, 2))
        }
        var vs = VirtualServerDef(target: target, place: s.place)
        for e in try block(s) {
            if e.keyword != "real_server" { try noBlock(e) }
            switch e.keyword {
            case "lvs_sched", "lb_algo":
                let name = try V.argument(e, 1, "a scheduler")
                let known = ["rr", "wrr", "lc", "wlc", "lblc", "sh", "mh", "dh", "fo", "ovf", "lblcr", "sed", "nq", "twos"]
                guard known.contains(name) else { throw V.fail(e, "'\(Shown.word(name))' is not a scheduler keepalived knows") }
                vs.scheduler = name
            case "ops", "flag-1", "flag-2", "flag-3", "sh-port", "sh-fallback", "mh-port", "mh-fallback":
                vs.flags.append(e.keyword)
            case "hashed": warn(e, "a flag IPVS sets by itself")
            case "lvs_method", "lb_kind": vs.forwarding = try V.forwarding(e)
            case "persistence_timeout":
                vs.persistence = e.words.count > 1 ? try V.unsigned(e, 1, 1...2_678_400, what: "seconds") : 360
            case "persistence_granularity":
                vs.granularity = try V.argument(e, 1, "a netmask")
                if vs.persistence == nil { vs.persistence = 360 }
            case "persistence_engine": vs.engine = try V.argument(e, 1, "an engine name")
            case "protocol":
                let p = try V.argument(e, 1, "TCP, UDP or SCTP").lowercased()
                guard ["tcp", "udp", "sctp"].contains(p) else { throw V.fail(e, "'\(Shown.word(e.words[1]))' is not TCP, UDP or SCTP") }
                vs.proto = p
            case "ip_family":
                switch try V.argument(e, 1, "inet or inet6") {
                case "inet": vs.family = .v4
                case "inet6": vs.family = .v6
                default: throw V.fail(e, "'\(Shown.word(e.words[1]))' is not inet or inet6")
                }
            case "delay_loop", "connect_timeout", "retry", "delay_before_retry", "warmup":
                try timing(e, &vs.timing)
            case "inhibit_on_failure": vs.inhibit = true
            case "alpha": vs.alpha = true
            case "omega": warn(e, "lvsh runs no notifiers at shutdown")
            case "quorum": vs.quorum = try V.unsigned(e, 1, 1...UInt64(UInt32.max))
            case "hysteresis": vs.hysteresis = try V.unsigned(e, 1, 0...UInt64(UInt32.max))
            case "quorum_up", "quorum_down":
                warn(e, "lvsh runs no notify scripts; quorum changes are in its journal lines and `show health`")
            case "weight": vs.weight = try V.unsigned(e, 1, 1...65535, what: "a weight")
            case "virtualhost": vs.virtualhost = try V.argument(e, 1, "a host name")
            case "sorry_server":
                vs.sorry = SorryDef(address: try V.address(e, 1), port: try V.port(e, 2), place: e.place)
            case "sorry_server_inhibit":
                guard vs.sorry != nil else { throw V.fail(e, "comes before (or without) sorry_server") }
                vs.sorry!.inhibit = true
            case "sorry_server_lvs_method":
                guard vs.sorry != nil else { throw V.fail(e, "comes before (or without) sorry_server") }
                vs.sorry!.forwarding = try V.forwarding(e)
            case "ha_suspend": warn(e, "lvsh checks run whether or not the virtual address is on this host")
            case "smtp_alert": warn(e, "lvsh sends no e-mail")
            case "snmp_name": warn(e, "lvsh has no SNMP; its Prometheus metrics name services by address")
            case "real_server": vs.reals.append(try realServer(e))
            default:
                throw V.fail(e, "not a virtual_server keyword (keepalived 2.2 does not know it there)")
            }
        }
        config.virtualServers.append(vs)
    }

    mutating func timing(_ e: Statement, _ t: inout CheckTiming) throws(LVSError) {
        switch e.keyword {
        case "delay_loop": t.delayLoop = try V.timer(e, minimumMilliseconds: 1)
        case "connect_timeout": t.connectTimeout = try V.timer(e, minimumMilliseconds: 1)
        case "retry", "nb_get_retry": t.retry = try V.unsigned(e, 1, 0...UInt64(UInt32.max))
        case "delay_before_retry":
            t.delayBeforeRetry = try V.timer(e)
            warn(e, "lvsh probes again at the next interval; fall = retry + 1 keeps keepalived's count of failures")
        case "warmup":
            t.warmup = try V.timer(e)
            warn(e, "lvsh spreads the first probes itself")
        case "alpha": t.alpha = try V.bool(e)
        default: break
        }
    }

    mutating func realServer(_ s: Statement) throws(LVSError) -> RealServerDef {
        var r = RealServerDef(address: try V.address(s, 1), port: try V.port(s, 2), place: s.place)
        guard s.words.count <= 3 else { throw V.fail(s, "is `real_server ADDRESS [PORT] { ... }`") }
        for e in try block(s) {
            if CheckerDef.Kind(rawValue: e.keyword) == nil { try noBlock(e) }
            switch e.keyword {
            case "weight": r.weight = try V.unsigned(e, 1, 0...65535, what: "a weight")
            case "lvs_method": r.forwarding = try V.forwarding(e)
            case "uthreshold": r.upper = try V.unsigned(e, 1, 0...UInt64(UInt32.max))
            case "lthreshold": r.lower = try V.unsigned(e, 1, 0...UInt64(UInt32.max))
            case "inhibit_on_failure": r.inhibit = try V.bool(e)
            case "alpha", "retry", "delay_before_retry", "warmup", "connect_timeout", "delay_loop": try timing(e, &r.timing)
            case "notify_up", "notify_down":
                warn(e, "lvsh runs no notify scripts; state changes are in its journal lines, `show health` and lvsh_real_up")
            case "smtp_alert": warn(e, "lvsh sends no e-mail")
            case "snmp_name": warn(e, "lvsh has no SNMP")
            case "virtualhost": r.virtualhost = try V.argument(e, 1, "a host name")
            case "track_file", "track_bfd":
                warn(e, "a real server follows files through FILE_CHECK in lvsh; put one in its place")
            default:
                guard let kind = CheckerDef.Kind(rawValue: e.keyword) else {
                    throw V.fail(e, "not a real_server keyword (keepalived 2.2 does not know it there)")
                }
                if let c = try checker(e, kind) { r.checkers.append(c) }
            }
        }
        return r
    }
}
