import LVSModel

/// `ipvsadm -L -n` and its variants (--stats, --rate, --thresholds,
/// --persistent-conn, --tun-info, --exact, --nosort), byte for byte.
///
/// Without -n ipvsadm prints host and port names; lvsh always prints numbers.
public enum IPVSAdmListing {
    public typealias Format = IPVSAdmCommand.ListFormat

    /// `ipvsadm -L`: the version header, the column titles and every service.
    public static func all(info: IPVSInfo, table: IPVSTable, format: Format) -> String {
        var out = "IP Virtual Server version \(info.versionString) (size=\(info.connectionTableSize))\n"
        out += title(format)
        let services = format.contains(.noSort) ? table.services : IPVSAdmSorting.services(table.services)
        for s in services { out += service(s, format: format) }
        return out
    }

    /// `ipvsadm -L -t ...`: the column titles and one service (no version header).
    public static func single(_ status: ServiceStatus, format: Format) -> String {
        title(format) + service(status, format: format)
    }

    /// ipvsadm's `print_title`.
    static func title(_ format: Format) -> String {
        let prot = "Prot LocalAddress:Port"
        let remote = "  -> RemoteAddress:Port\n"
        func columns(_ names: [String], _ width: Int, left: Bool) -> String {
            names.map { " " + (left ? IPVSAdmFormat.left($0, width) : IPVSAdmFormat.right($0, width)) }.joined()
        }
        if format.contains(.stats) {
            return IPVSAdmFormat.left(prot, 33) + columns(["Conns", "InPkts", "OutPkts", "InBytes", "OutBytes"], 8, left: false) + "\n" + remote
        }
        if format.contains(.rate) {
            return IPVSAdmFormat.left(prot, 33) + columns(["CPS", "InPPS", "OutPPS", "InBPS", "OutBPS"], 8, left: false) + "\n" + remote
        }
        if format.contains(.thresholds) {
            return IPVSAdmFormat.left(prot, 33) + columns(["Uthreshold", "Lthreshold", "ActiveConn", "InActConn"], 10, left: true) + "\n" + remote
        }
        if format.contains(.persistentConnections) {
            return IPVSAdmFormat.left(prot, 33) + " " + IPVSAdmFormat.left("Weight", 9) + " " + IPVSAdmFormat.left("PersistConn", 11)
                + columns(["ActiveConn", "InActConn"], 10, left: true) + "\n" + remote
        }
        if format.contains(.tunnelInfo) {
            return "Prot LocalAddress:Port Scheduler Flags\n  -> RemoteAddress:Port           Forward TunnelInfo    Weight ActiveConn InActConn\n"
        }
        return "Prot LocalAddress:Port Scheduler Flags\n  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n"
    }

    /// The service's name column: "TCP  192.168.0.1:80" or "FWM  1000 IPv6".
    static func serviceName(_ key: ServiceKey) -> String {
        switch key {
        case .fwmark(let mark, let family):
            // ipvsadm prints the mark with "%d": marks above 2^31 come out negative.
            let signed = Int32(bitPattern: mark)
            return family == .v6 ? "FWM  \(signed) IPv6" : "FWM  \(signed)"
        case .inet(let proto, let address, let port):
            let name = IPVSAdmFormat.left(proto.description.uppercased(), 4) + " " + IPVSAdmFormat.endpoint(address, port)
            // ipvsadm cuts IPv4 names to 33 bytes (it never happens with numbers).
            return address.family == .v6 ? name : IPVSAdmFormat.cut(name, 33)
        }
    }

    /// ipvsadm's `print_sched_flags`: named for sh and mh, flag-N otherwise.
    static func schedulerFlags(_ service: VirtualService) -> String {
        var names: [String] = []
        let f = service.flags
        switch service.scheduler {
        case "sh", "mh":
            if f.contains(.schedulerFlag1) { names.append(service.scheduler + "-fallback") }
            if f.contains(.schedulerFlag2) { names.append(service.scheduler + "-port") }
        default:
            if f.contains(.schedulerFlag1) { names.append("flag-1") }
            if f.contains(.schedulerFlag2) { names.append("flag-2") }
            if f.contains(.schedulerFlag3) { names.append("flag-3") }
        }
        return names.joined(separator: ",")
    }

    static let schedulerFlagMask: ServiceFlags = [.schedulerFlag1, .schedulerFlag2, .schedulerFlag3]

    /// ipvsadm's `print_service_entry` for every format except the -S rules.
    static func service(_ status: ServiceStatus, format: Format) -> String {
        let s = status.service
        let name = serviceName(s.key)
        let exact = format.contains(.exact)
        var out: String
        if format.contains(.stats) {
            let st = status.stats
            out = IPVSAdmFormat.left(name, 33) + [st.connections, st.packetsIn, st.packetsOut, st.bytesIn, st.bytesOut]
                .map { IPVSAdmFormat.largeNumber($0, exact: exact) }.joined()
        } else if format.contains(.rate) {
            let st = status.stats
            out = IPVSAdmFormat.left(name, 33) + [st.connectionsPerSecond, st.packetsInPerSecond, st.packetsOutPerSecond,
                                                  st.bytesInPerSecond, st.bytesOutPerSecond]
                .map { IPVSAdmFormat.largeNumber($0, exact: exact) }.joined()
        } else {
            out = name + " " + s.scheduler
            if !s.flags.isDisjoint(with: schedulerFlagMask) { out += " (" + schedulerFlags(s) + ")" }
            if s.isPersistent {
                out += " persistent \(s.timeout)"
                if let mask = netmaskText(s) { out += " mask " + mask }
                if let pe = s.persistenceEngine, !pe.isEmpty { out += " pe " + pe }
            }
            if s.flags.contains(.onePacket) { out += " ops" }
        }
        out += "\n"
        let servers = format.contains(.noSort) ? status.realServers : IPVSAdmSorting.realServers(status.realServers)
        for r in servers { out += realServer(r, format: format) }
        return out
    }

    /// The persistence mask when it is not the host mask: dotted for IPv4, a prefix length for IPv6.
    static func netmaskText(_ s: VirtualService) -> String? {
        switch s.key.family {
        case .v4: s.netmask == 0xffff_ffff ? nil : IPVSAdmFormat.dottedQuad(s.netmask)
        case .v6: s.netmask == 128 ? nil : String(Int32(bitPattern: s.netmask))
        }
    }

    /// ipvsadm's name for a forwarding method; it has none for bypass and prints "(null)".
    static func forwardingName(_ f: ForwardingMethod) -> String {
        f == .bypass ? "(null)" : f.listingName
    }

    /// One "  -> " line.
    static func realServer(_ status: RealServerStatus, format: Format) -> String {
        let r = status.server
        var name = IPVSAdmFormat.endpoint(r.address, r.port)
        if r.address.family == .v4 { name = IPVSAdmFormat.cut(name, 28) }
        let head = "  -> " + IPVSAdmFormat.left(name, 28)
        let exact = format.contains(.exact)
        // libipvs reads a real server's 64-bit counters with 32-bit getters (all but the
        // byte counts), so ipvsadm shows them modulo 2^32; lvsh prints what ipvsadm prints.
        let st = status.stats
        func low32(_ v: UInt64) -> UInt64 { v & 0xffff_ffff }
        func col(_ v: UInt64, _ w: Int) -> String { " " + IPVSAdmFormat.left(String(v), w) }
        if format.contains(.stats) {
            return head + [low32(st.connections), low32(st.packetsIn), low32(st.packetsOut), st.bytesIn, st.bytesOut]
                .map { IPVSAdmFormat.largeNumber($0, exact: exact) }.joined() + "\n"
        }
        if format.contains(.rate) {
            return head + [low32(st.connectionsPerSecond), low32(st.packetsInPerSecond), low32(st.packetsOutPerSecond)]
                .map { " " + IPVSAdmFormat.right(String($0), 8) }.joined()
                + IPVSAdmFormat.largeNumber(low32(st.bytesInPerSecond), exact: exact)
                + IPVSAdmFormat.largeNumber(low32(st.bytesOutPerSecond), exact: exact) + "\n"
        }
        let active = UInt64(status.activeConnections), inactive = UInt64(status.inactiveConnections)
        if format.contains(.thresholds) {
            return head + col(UInt64(r.upperThreshold), 10) + col(UInt64(r.lowerThreshold), 10) + col(active, 10) + col(inactive, 10) + "\n"
        }
        let weight = " " + IPVSAdmFormat.left(String(r.weight), 6)
        if format.contains(.persistentConnections) {
            return head + " " + IPVSAdmFormat.left(String(r.weight), 9) + col(UInt64(status.persistentConnections), 11)
                + col(active, 10) + col(inactive, 10) + "\n"
        }
        let forward = " " + IPVSAdmFormat.left(forwardingName(r.forwarding), 7)
        if format.contains(.tunnelInfo) {
            return head + forward + " " + IPVSAdmFormat.left(tunnelInfo(r) ?? "n/a", 13) + weight + col(active, 10) + col(inactive, 10) + "\n"
        }
        return head + forward + weight + col(active, 10) + col(inactive, 10) + "\n"
    }

    /// ipvsadm's `fwd_tun_info`: "ipip", "gue:6080:+c", "gre:-c"; nil unless tunneling.
    static func tunnelInfo(_ r: RealServer) -> String? {
        guard r.forwarding == .tunnel else { return nil }
        switch r.tunnelType {
        case .ipip: return "ipip"
        case .gue: return IPVSAdmFormat.cut("gue:\(r.tunnelPort):\(checksumMark(r.tunnelFlags))", 15)
        case .gre: return "gre:" + checksumMark(r.tunnelFlags)
        }
    }

    /// ipvsadm indexes a table with the flag value: 0 "-c", 1 "+c", 2 "r+c".
    static func checksumMark(_ flags: TunnelFlags) -> String {
        flags.contains(.remoteChecksum) ? "r+c" : flags.contains(.checksum) ? "+c" : "-c"
    }
}
