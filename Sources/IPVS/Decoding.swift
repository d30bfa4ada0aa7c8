import CNetlink
import LVSModel

/// The only place that turns IPVS generic-netlink attributes back into model values.
enum IPVSDecoding {
    /// The attributes after the genlmsghdr of a reply.
    static func topLevel(_ message: NetlinkMessage) -> NetlinkAttributes {
        NetlinkAttributes(message.payload.dropFirst(4), maxType: (__IPVS_CMD_ATTR_MAX - 1))
    }

    /// One service of a service dump. Dumps have one message per service, so this reads the
    /// attributes in place (`AttributeTable`) instead of building tables on the heap.
    /// Without `counters` the stats are left zero: listings that do not show them skip their decoding,
    /// about 15% of the instructions of reading a large table.
    static func service(_ message: NetlinkMessage, counters: Bool = true) throws(LVSError) -> (VirtualService, Stats) {
        try message.payload.withUnsafeBufferPointer { (p) throws(LVSError) in
            try AttributeTable.withAttributes(attributes(p), maxType: __IPVS_CMD_ATTR_MAX - 1) { (top) throws(LVSError) in
                guard let nested = top[IPVS_CMD_ATTR_SERVICE] else {
                    throw .failed("IPVS answered a service dump without a service")
                }
                return try AttributeTable.withAttributes(nested, maxType: __IPVS_SVC_ATTR_MAX - 1) { (a) throws(LVSError) in
                    try service(a, counters: counters)
                }
            }
        }
    }

    private static func service(_ a: AttributeTable, counters: Bool) throws(LVSError) -> (VirtualService, Stats) {
        guard let afRaw = a.u16(IPVS_SVC_ATTR_AF), let family = IPAddress.Family(rawValue: afRaw) else {
            throw .failed("IPVS answered a service with an unknown address family")
        }
        let key: ServiceKey
        if let mark = a.u32(IPVS_SVC_ATTR_FWMARK), mark != 0 {
            key = .fwmark(mark, family)
        } else {
            guard let protoRaw = a.u16(IPVS_SVC_ATTR_PROTOCOL), let proto = L4Protocol(rawValue: protoRaw),
                  let addr = address(a[IPVS_SVC_ATTR_ADDR], family: family), let port = a.be16(IPVS_SVC_ATTR_PORT) else {
                throw .failed("IPVS answered a service without protocol, address or port")
            }
            key = .inet(proto, addr, port)
        }
        var flags = ServiceFlags()
        if let f = a[IPVS_SVC_ATTR_FLAGS], f.count >= 4 {
            flags = ServiceFlags(rawValue: readLE32(f, at: 0)).intersection(.userSettable)
        }
        let netmask: UInt32 = family == .v4 ? (a.be32(IPVS_SVC_ATTR_NETMASK) ?? 0xffff_ffff)
                                            : (a.u32(IPVS_SVC_ATTR_NETMASK) ?? 128)
        let pe = a.string(IPVS_SVC_ATTR_PE_NAME).flatMap { $0.isEmpty ? nil : $0 }
        let svc = VirtualService(key: key, scheduler: a.string(IPVS_SVC_ATTR_SCHED_NAME) ?? "",
                                 flags: flags, timeout: a.u32(IPVS_SVC_ATTR_TIMEOUT) ?? 0,
                                 netmask: netmask, persistenceEngine: pe)
        return (svc, counters ? stats(a[IPVS_SVC_ATTR_STATS64], a[IPVS_SVC_ATTR_STATS]) : Stats())
    }

    /// One destination of a destination dump, read in place like `service(_:counters:)`.
    static func realServer(_ message: NetlinkMessage, serviceFamily: IPAddress.Family, counters: Bool = true) throws(LVSError) -> RealServerStatus {
        try message.payload.withUnsafeBufferPointer { (p) throws(LVSError) in
            try AttributeTable.withAttributes(attributes(p), maxType: __IPVS_CMD_ATTR_MAX - 1) { (top) throws(LVSError) in
                guard let nested = top[IPVS_CMD_ATTR_DEST] else {
                    throw .failed("IPVS answered a destination dump without a destination")
                }
                return try AttributeTable.withAttributes(nested, maxType: __IPVS_DEST_ATTR_MAX - 1) { (a) throws(LVSError) in
                    try realServer(a, serviceFamily: serviceFamily, counters: counters)
                }
            }
        }
    }

    private static func realServer(_ a: AttributeTable, serviceFamily: IPAddress.Family, counters: Bool) throws(LVSError) -> RealServerStatus {
        // Kernels since 3.18 may give a destination its own family (e.g. IPv4 tunnels for an IPv6 service).
        let family = a.u16(IPVS_DEST_ATTR_ADDR_FAMILY).flatMap(IPAddress.Family.init(rawValue:)) ?? serviceFamily
        guard let addr = address(a[IPVS_DEST_ATTR_ADDR], family: family), let port = a.be16(IPVS_DEST_ATTR_PORT) else {
            throw .failed("IPVS answered a destination without address or port")
        }
        let method = ForwardingMethod(rawValue: (a.u32(IPVS_DEST_ATTR_FWD_METHOD) ?? 0) & 0x7) ?? .masquerade
        let rs = RealServer(address: addr, port: port, forwarding: method,
                            weight: Int32(bitPattern: a.u32(IPVS_DEST_ATTR_WEIGHT) ?? 0),
                            upperThreshold: a.u32(IPVS_DEST_ATTR_U_THRESH) ?? 0,
                            lowerThreshold: a.u32(IPVS_DEST_ATTR_L_THRESH) ?? 0,
                            tunnelType: a.u8(IPVS_DEST_ATTR_TUN_TYPE).flatMap(TunnelType.init(rawValue:)) ?? .ipip,
                            tunnelPort: a.be16(IPVS_DEST_ATTR_TUN_PORT) ?? 0,
                            tunnelFlags: TunnelFlags(rawValue: a.u16(IPVS_DEST_ATTR_TUN_FLAGS) ?? 0))
        return RealServerStatus(server: rs,
                                activeConnections: a.u32(IPVS_DEST_ATTR_ACTIVE_CONNS) ?? 0,
                                inactiveConnections: a.u32(IPVS_DEST_ATTR_INACT_CONNS) ?? 0,
                                persistentConnections: a.u32(IPVS_DEST_ATTR_PERSIST_CONNS) ?? 0,
                                stats: counters ? stats(a[IPVS_DEST_ATTR_STATS64], a[IPVS_DEST_ATTR_STATS]) : Stats())
    }

    /// The attributes after a reply's genlmsghdr.
    private static func attributes(_ payload: UnsafeBufferPointer<UInt8>) -> UnsafeBufferPointer<UInt8> {
        UnsafeBufferPointer(rebasing: payload.dropFirst(4))
    }

    static func daemon(_ message: NetlinkMessage) -> SyncDaemon? {
        guard let nested = topLevel(message)[IPVS_CMD_ATTR_DAEMON] else { return nil }
        let a = NetlinkAttributes(nested, maxType: (__IPVS_DAEMON_ATTR_MAX - 1))
        guard let role = a.u32(IPVS_DAEMON_ATTR_STATE).flatMap(SyncRole.init(rawValue:)) else { return nil }
        var group: IPAddress? = nil
        if let g = a[IPVS_DAEMON_ATTR_MCAST_GROUP6], let v6 = IPAddress(bytes: g), !v6.isZero {
            group = v6
        } else if let g = a[IPVS_DAEMON_ATTR_MCAST_GROUP], let v4 = IPAddress(bytes: g), !v4.isZero {
            group = v4
        }
        return SyncDaemon(role: role, interface: a.string(IPVS_DAEMON_ATTR_MCAST_IFN) ?? "",
                          syncID: UInt8(truncatingIfNeeded: a.u32(IPVS_DAEMON_ATTR_SYNC_ID) ?? 0),
                          maxLength: a.u16(IPVS_DAEMON_ATTR_SYNC_MAXLEN) ?? 0,
                          group: group, port: a.u16(IPVS_DAEMON_ATTR_MCAST_PORT) ?? 0,
                          ttl: a.u8(IPVS_DAEMON_ATTR_MCAST_TTL) ?? 0)
    }

    static func timeouts(_ message: NetlinkMessage) -> Timeouts {
        let a = topLevel(message)
        return Timeouts(tcp: a.u32(IPVS_CMD_ATTR_TIMEOUT_TCP) ?? 0,
                        tcpFin: a.u32(IPVS_CMD_ATTR_TIMEOUT_TCP_FIN) ?? 0,
                        udp: a.u32(IPVS_CMD_ATTR_TIMEOUT_UDP) ?? 0)
    }

    static func info(_ message: NetlinkMessage) -> IPVSInfo {
        let a = NetlinkAttributes(message.payload.dropFirst(4), maxType: (__IPVS_INFO_ATTR_MAX - 1))
        return IPVSInfo(version: a.u32(IPVS_INFO_ATTR_VERSION) ?? 0,
                        connectionTableSize: a.u32(IPVS_INFO_ATTR_CONN_TAB_SIZE) ?? 0)
    }

    private static func address(_ raw: UnsafeBufferPointer<UInt8>?, family: IPAddress.Family) -> IPAddress? {
        guard let raw else { return nil }
        switch family {
        case .v4:
            guard raw.count >= 4 else { return nil }
            return IPAddress(v4: UInt32(raw[0]) << 24 | UInt32(raw[1]) << 16 | UInt32(raw[2]) << 8 | UInt32(raw[3]))
        case .v6:
            guard raw.count >= 16 else { return nil }
            func half(_ start: Int) -> UInt64 { (start..<start + 8).reduce(0) { $0 << 8 | UInt64(raw[$1]) } }
            return IPAddress(v6High: half(0), low: half(8))
        }
    }

    /// Prefers the 64-bit counters; kernels before 4.1 only have the 32-bit ones.
    private static func stats(_ s64: UnsafeBufferPointer<UInt8>?, _ s32: UnsafeBufferPointer<UInt8>?) -> Stats {
        if let s64 { return counters(s64, wide: true) }
        if let s32 { return counters(s32, wide: false) }
        return Stats()
    }

    /// The counters of a stats attribute in one pass, each type's last payload winning as in
    /// `AttributeTable` (this runs for every service and destination of a table read).
    /// `wide`: all 64-bit; else only the byte counts are.
    private static func counters(_ data: UnsafeBufferPointer<UInt8>, wide: Bool) -> Stats {
        typealias Bytes = UnsafeBufferPointer<UInt8>
        var conns, inPackets, outPackets, inBytes, outBytes, cps, inPPS, outPPS, inBPS, outBPS: Bytes?
        var i = 0
        while data.count - i >= 4 {
            let len = Int(readLE16(data, at: i))
            let type = Int(readLE16(data, at: i + 2)) & nlaTypeMask
            guard len >= 4, i + len <= data.count else { break }
            let p = Bytes(rebasing: data[(i + 4)..<(i + len)])
            switch type {
            case IPVS_STATS_ATTR_CONNS: conns = p
            case IPVS_STATS_ATTR_INPKTS: inPackets = p
            case IPVS_STATS_ATTR_OUTPKTS: outPackets = p
            case IPVS_STATS_ATTR_INBYTES: inBytes = p
            case IPVS_STATS_ATTR_OUTBYTES: outBytes = p
            case IPVS_STATS_ATTR_CPS: cps = p
            case IPVS_STATS_ATTR_INPPS: inPPS = p
            case IPVS_STATS_ATTR_OUTPPS: outPPS = p
            case IPVS_STATS_ATTR_INBPS: inBPS = p
            case IPVS_STATS_ATTR_OUTBPS: outBPS = p
            default: break
            }
            i += (len + 3) & ~3
        }
        func u64(_ p: Bytes?) -> UInt64 {
            guard let p, p.count >= 8 else { return 0 }
            return UInt64(readLE32(p, at: 0)) | UInt64(readLE32(p, at: 4)) << 32
        }
        func u32(_ p: Bytes?) -> UInt64 {
            guard let p, p.count >= 4 else { return 0 }
            return UInt64(readLE32(p, at: 0))
        }
        let counter = wide ? u64 : u32
        var s = Stats()
        s.connections = counter(conns)
        s.packetsIn = counter(inPackets)
        s.packetsOut = counter(outPackets)
        s.bytesIn = u64(inBytes)
        s.bytesOut = u64(outBytes)
        s.connectionsPerSecond = counter(cps)
        s.packetsInPerSecond = counter(inPPS)
        s.packetsOutPerSecond = counter(outPPS)
        s.bytesInPerSecond = counter(inBPS)
        s.bytesOutPerSecond = counter(outBPS)
        return s
    }
}
