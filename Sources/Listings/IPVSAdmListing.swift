import LVSModel

/// `ipvsadm -L -n` and its variants (--stats, --rate, --thresholds,
/// --persistent-conn, --tun-info, --exact, --nosort), byte for byte.
///
/// Without -n ipvsadm prints host and port names; lvsh always prints numbers.
public enum IPVSAdmListing {
    public typealias Format = ListFormat

    /// `ipvsadm -L`: the version header, the column titles and every service.
    public static func all(info: IPVSInfo, table: IPVSTable, format: Format) -> String {
        IPVSAdmOutput.text { write(info: info, table: table, format: format, to: &$0) }
    }

    /// `all(info:table:format:)`, handed to `out` in chunks of whole lines as it is made.
    public static func all(info: IPVSInfo, table: IPVSTable, format: Format, out: (String) -> Void) {
        withoutActuallyEscaping(out) { out in
            var o = IPVSAdmOutput(flush: out)
            write(info: info, table: table, format: format, to: &o)
            o.finish()
        }
    }

    private static func write(info: IPVSInfo, table: IPVSTable, format: Format, to o: inout IPVSAdmOutput) {
        o.append(string: "IP Virtual Server version \(info.versionString) (size=\(info.connectionTableSize))\n")
        o.append(string: title(format))
        let order = format.contains(.noSort) ? Array(table.services.indices) : IPVSAdmSorting.serviceOrder(table.services)
        for i in order { service(table.services[i], format: format, to: &o) }
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
        IPVSAdmOutput.text { serviceName(key, to: &$0) }
    }

    static func serviceName(_ key: ServiceKey, to o: inout IPVSAdmOutput) {
        switch key {
        case .fwmark(let mark, let family):
            // ipvsadm prints the mark with "%d": marks above 2^31 come out negative.
            o.append("FWM  ")
            o.decimal(Int64(Int32(bitPattern: mark)))
            if family == .v6 { o.append(" IPv6") }
        case .inet(let proto, let address, let port):
            let start = o.count
            o.left(proto.description.uppercased(), 4)
            o.append(" ")
            o.endpoint(address, port)
            // ipvsadm cuts IPv4 names to 33 bytes (it never happens with numbers).
            if address.family != .v6 { o.cut(from: start, to: 33) }
        }
    }

    /// ipvsadm's `print_sched_flags`: named for sh and mh, flag-N otherwise.
    package static func schedulerFlags(_ service: VirtualService) -> String {
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

    package static let schedulerFlagMask: ServiceFlags = [.schedulerFlag1, .schedulerFlag2, .schedulerFlag3]

    /// ipvsadm's `print_service_entry` for every format except the -S rules.
    static func service(_ status: ServiceStatus, format: Format) -> String {
        IPVSAdmOutput.text { service(status, format: format, to: &$0) }
    }

    static func service(_ status: ServiceStatus, format: Format, to o: inout IPVSAdmOutput) {
        let s = status.service
        let exact = format.contains(.exact)
        if format.contains(.stats) {
            let st = status.stats
            o.left(33) { serviceName(s.key, to: &$0) }
            for n in [st.connections, st.packetsIn, st.packetsOut, st.bytesIn, st.bytesOut] { o.largeNumber(n, exact: exact) }
        } else if format.contains(.rate) {
            let st = status.stats
            o.left(33) { serviceName(s.key, to: &$0) }
            for n in [st.connectionsPerSecond, st.packetsInPerSecond, st.packetsOutPerSecond, st.bytesInPerSecond, st.bytesOutPerSecond] {
                o.largeNumber(n, exact: exact)
            }
        } else {
            serviceName(s.key, to: &o)
            o.append(" ")
            o.append(string: s.scheduler)
            if !s.flags.isDisjoint(with: schedulerFlagMask) {
                o.append(" (")
                o.append(string: schedulerFlags(s))
                o.append(")")
            }
            if s.isPersistent {
                o.append(" persistent ")
                o.decimal(UInt64(s.timeout))
                if let mask = netmaskText(s) {
                    o.append(" mask ")
                    o.append(string: mask)
                }
                if let pe = s.persistenceEngine, !pe.isEmpty {
                    o.append(" pe ")
                    o.append(string: pe)
                }
            }
            if s.flags.contains(.onePacket) { o.append(" ops") }
        }
        o.newline()
        if format.contains(.noSort) || status.realServers.count < 2 {
            for r in status.realServers { realServer(r, format: format, to: &o) }
        } else {
            IPVSAdmSorting.withRealServerOrder(status.realServers) { order in
                for i in order { realServer(status.realServers[i], format: format, to: &o) }
            }
        }
    }

    /// The persistence mask when it is not the host mask: dotted for IPv4, a prefix length for IPv6.
    static func netmaskText(_ s: VirtualService) -> String? {
        switch s.key.family {
        case .v4: s.netmask == 0xffff_ffff ? nil : IPVSAdmFormat.dottedQuad(s.netmask)
        case .v6: s.netmask == 128 ? nil : String(Int32(bitPattern: s.netmask))
        }
    }

    /// ipvsadm's name for a forwarding method (it has none for bypass and prints "(null)") as the -L
    /// column writes it, " %-7s"; `ForwardingMethod.listingName` padded.
    static func forwardingColumn(_ f: ForwardingMethod) -> StaticString {
        switch f {
        case .masquerade: " Masq   "
        case .local: " Local  "
        case .tunnel: " Tunnel "
        case .route: " Route  "
        case .bypass: " (null) "
        }
    }

    /// One "  -> " line.
    static func realServer(_ status: RealServerStatus, format: Format) -> String {
        IPVSAdmOutput.text { realServer(status, format: format, to: &$0) }
    }

    static func realServer(_ status: RealServerStatus, format: Format, to o: inout IPVSAdmOutput) {
        let r = status.server
        o.append("  -> ")
        o.left(28) { o in
            let start = o.count
            o.endpoint(r.address, r.port)
            if r.address.family == .v4 { o.cut(from: start, to: 28) }
        }
        let exact = format.contains(.exact)
        // libipvs reads a real server's 64-bit counters with 32-bit getters (all but the
        // byte counts), so ipvsadm shows them modulo 2^32; lvsh prints what ipvsadm prints.
        let st = status.stats
        func low32(_ v: UInt64) -> UInt64 { v & 0xffff_ffff }
        func col(_ v: UInt64, _ w: Int, _ o: inout IPVSAdmOutput) {
            o.append(" ")
            o.left(v, w)
        }
        if format.contains(.stats) {
            for n in [low32(st.connections), low32(st.packetsIn), low32(st.packetsOut), st.bytesIn, st.bytesOut] {
                o.largeNumber(n, exact: exact)
            }
            return o.newline()
        }
        if format.contains(.rate) {
            for n in [low32(st.connectionsPerSecond), low32(st.packetsInPerSecond), low32(st.packetsOutPerSecond)] {
                o.append(" ")
                o.right(n, 8)
            }
            o.largeNumber(low32(st.bytesInPerSecond), exact: exact)
            o.largeNumber(low32(st.bytesOutPerSecond), exact: exact)
            return o.newline()
        }
        let active = UInt64(status.activeConnections), inactive = UInt64(status.inactiveConnections)
        if format.contains(.thresholds) {
            col(UInt64(r.upperThreshold), 10, &o)
            col(UInt64(r.lowerThreshold), 10, &o)
            col(active, 10, &o)
            col(inactive, 10, &o)
            return o.newline()
        }
        if format.contains(.persistentConnections) {
            o.append(" ")
            o.left(9) { $0.decimal(Int64(r.weight)) }
            col(UInt64(status.persistentConnections), 11, &o)
            col(active, 10, &o)
            col(inactive, 10, &o)
            return o.newline()
        }
        // " %-7s": the name already padded, one copy per line of 40,000.
        o.append(forwardingColumn(r.forwarding))
        if format.contains(.tunnelInfo) {
            o.append(" ")
            o.left(tunnelInfo(r) ?? "n/a", 13)
        }
        o.append(" ")
        o.left(6) { $0.decimal(Int64(r.weight)) }
        o.column(active, 10)
        o.column(inactive, 10)
        o.newline()
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
