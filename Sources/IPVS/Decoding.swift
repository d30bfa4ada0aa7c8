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
    static func service(_ message: NetlinkMessage) throws(LVSError) -> (VirtualService, Stats) {
        let decoded = message.payload.withUnsafeBufferPointer { p -> Result<(VirtualService, Stats), LVSError> in
            AttributeTable.withAttributes(attributes(p), maxType: __IPVS_CMD_ATTR_MAX - 1) { top in
                guard let nested = top[IPVS_CMD_ATTR_SERVICE] else {
                    return .failure(.failed("IPVS answered a service dump without a service"))
                }
                return AttributeTable.withAttributes(nested, maxType: __IPVS_SVC_ATTR_MAX - 1) { a in service(a) }
            }
        }
        return try decoded.get()
    }

    private static func service(_ a: AttributeTable) -> Result<(VirtualService, Stats), LVSError> {
        guard let afRaw = a.u16(IPVS_SVC_ATTR_AF), let family = IPAddress.Family(rawValue: afRaw) else {
            return .failure(.failed("IPVS answered a service with an unknown address family"))
        }
        let key: ServiceKey
        if let mark = a.u32(IPVS_SVC_ATTR_FWMARK), mark != 0 {
            key = .fwmark(mark, family)
        } else {
            guard let protoRaw = a.u16(IPVS_SVC_ATTR_PROTOCOL), let proto = L4Protocol(rawValue: protoRaw),
                  let addr = address(a[IPVS_SVC_ATTR_ADDR], family: family), let port = a.be16(IPVS_SVC_ATTR_PORT) else {
                return .failure(.failed("IPVS answered a service without protocol, address or port"))
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
        return .success((svc, stats(a[IPVS_SVC_ATTR_STATS64], a[IPVS_SVC_ATTR_STATS])))
    }

    /// One destination of a destination dump, read in place like `service(_:)`.
    static func realServer(_ message: NetlinkMessage, serviceFamily: IPAddress.Family) throws(LVSError) -> RealServerStatus {
        let decoded = message.payload.withUnsafeBufferPointer { p -> Result<RealServerStatus, LVSError> in
            AttributeTable.withAttributes(attributes(p), maxType: __IPVS_CMD_ATTR_MAX - 1) { top in
                guard let nested = top[IPVS_CMD_ATTR_DEST] else {
                    return .failure(.failed("IPVS answered a destination dump without a destination"))
                }
                return AttributeTable.withAttributes(nested, maxType: __IPVS_DEST_ATTR_MAX - 1) { a in
                    realServer(a, serviceFamily: serviceFamily)
                }
            }
        }
        return try decoded.get()
    }

    private static func realServer(_ a: AttributeTable, serviceFamily: IPAddress.Family) -> Result<RealServerStatus, LVSError> {
        // Kernels since 3.18 may give a destination its own family (e.g. IPv4 tunnels for an IPv6 service).
        let family = a.u16(IPVS_DEST_ATTR_ADDR_FAMILY).flatMap(IPAddress.Family.init(rawValue:)) ?? serviceFamily
        guard let addr = address(a[IPVS_DEST_ATTR_ADDR], family: family), let port = a.be16(IPVS_DEST_ATTR_PORT) else {
            return .failure(.failed("IPVS answered a destination without address or port"))
        }
        let method = ForwardingMethod(rawValue: (a.u32(IPVS_DEST_ATTR_FWD_METHOD) ?? 0) & 0x7) ?? .masquerade
        let rs = RealServer(address: addr, port: port, forwarding: method,
                            weight: Int32(bitPattern: a.u32(IPVS_DEST_ATTR_WEIGHT) ?? 0),
                            upperThreshold: a.u32(IPVS_DEST_ATTR_U_THRESH) ?? 0,
                            lowerThreshold: a.u32(IPVS_DEST_ATTR_L_THRESH) ?? 0,
                            tunnelType: a.u8(IPVS_DEST_ATTR_TUN_TYPE).flatMap(TunnelType.init(rawValue:)) ?? .ipip,
                            tunnelPort: a.be16(IPVS_DEST_ATTR_TUN_PORT) ?? 0,
                            tunnelFlags: TunnelFlags(rawValue: a.u16(IPVS_DEST_ATTR_TUN_FLAGS) ?? 0))
        return .success(RealServerStatus(server: rs,
                                         activeConnections: a.u32(IPVS_DEST_ATTR_ACTIVE_CONNS) ?? 0,
                                         inactiveConnections: a.u32(IPVS_DEST_ATTR_INACT_CONNS) ?? 0,
                                         persistentConnections: a.u32(IPVS_DEST_ATTR_PERSIST_CONNS) ?? 0,
                                         stats: stats(a[IPVS_DEST_ATTR_STATS64], a[IPVS_DEST_ATTR_STATS])))
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

    private static func address(_ raw: ArraySlice<UInt8>?, family: IPAddress.Family) -> IPAddress? {
        guard let raw else { return nil }
        let n = family == .v4 ? 4 : 16
        guard raw.count >= n else { return nil }
        return IPAddress(bytes: raw.prefix(n))
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
        if let s64 {
            return AttributeTable.withAttributes(s64, maxType: __IPVS_STATS_ATTR_MAX - 1) { a in
                var s = Stats()
                s.connections = a.u64(IPVS_STATS_ATTR_CONNS) ?? 0
                s.packetsIn = a.u64(IPVS_STATS_ATTR_INPKTS) ?? 0
                s.packetsOut = a.u64(IPVS_STATS_ATTR_OUTPKTS) ?? 0
                s.bytesIn = a.u64(IPVS_STATS_ATTR_INBYTES) ?? 0
                s.bytesOut = a.u64(IPVS_STATS_ATTR_OUTBYTES) ?? 0
                s.connectionsPerSecond = a.u64(IPVS_STATS_ATTR_CPS) ?? 0
                s.packetsInPerSecond = a.u64(IPVS_STATS_ATTR_INPPS) ?? 0
                s.packetsOutPerSecond = a.u64(IPVS_STATS_ATTR_OUTPPS) ?? 0
                s.bytesInPerSecond = a.u64(IPVS_STATS_ATTR_INBPS) ?? 0
                s.bytesOutPerSecond = a.u64(IPVS_STATS_ATTR_OUTBPS) ?? 0
                return s
            }
        } else if let s32 {
            return AttributeTable.withAttributes(s32, maxType: __IPVS_STATS_ATTR_MAX - 1) { a in
                var s = Stats()
                s.connections = UInt64(a.u32(IPVS_STATS_ATTR_CONNS) ?? 0)
                s.packetsIn = UInt64(a.u32(IPVS_STATS_ATTR_INPKTS) ?? 0)
                s.packetsOut = UInt64(a.u32(IPVS_STATS_ATTR_OUTPKTS) ?? 0)
                s.bytesIn = a.u64(IPVS_STATS_ATTR_INBYTES) ?? 0
                s.bytesOut = a.u64(IPVS_STATS_ATTR_OUTBYTES) ?? 0
                s.connectionsPerSecond = UInt64(a.u32(IPVS_STATS_ATTR_CPS) ?? 0)
                s.packetsInPerSecond = UInt64(a.u32(IPVS_STATS_ATTR_INPPS) ?? 0)
                s.packetsOutPerSecond = UInt64(a.u32(IPVS_STATS_ATTR_OUTPPS) ?? 0)
                s.bytesInPerSecond = UInt64(a.u32(IPVS_STATS_ATTR_INBPS) ?? 0)
                s.bytesOutPerSecond = UInt64(a.u32(IPVS_STATS_ATTR_OUTBPS) ?? 0)
                return s
            }
        }
        return Stats()
    }
}
