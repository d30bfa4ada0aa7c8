import CNetlink
import LVSModel

/// The only place that turns model values into IPVS generic-netlink attributes.
/// Layouts follow linux/ip_vs.h and what the kernel's ip_vs_genl_parse_* functions expect.
enum IPVSEncoding {
    static let version = UInt8(IPVS_GENL_VERSION)

    /// The command and top-level attributes of one operation.
    static func command(for operation: IPVSOperation) -> UInt8 {
        let c: Int
        switch operation {
        case .addService: c = IPVS_CMD_NEW_SERVICE
        case .editService: c = IPVS_CMD_SET_SERVICE
        case .deleteService: c = IPVS_CMD_DEL_SERVICE
        case .addRealServer: c = IPVS_CMD_NEW_DEST
        case .editRealServer: c = IPVS_CMD_SET_DEST
        case .deleteRealServer: c = IPVS_CMD_DEL_DEST
        case .flush: c = IPVS_CMD_FLUSH
        case .zero: c = IPVS_CMD_ZERO
        case .setTimeouts: c = IPVS_CMD_SET_CONFIG
        case .startDaemon: c = IPVS_CMD_NEW_DAEMON
        case .stopDaemon: c = IPVS_CMD_DEL_DAEMON
        }
        return UInt8(c)
    }

    static func attributes(of operation: IPVSOperation, into w: inout NetlinkWriter) {
        switch operation {
        case .addService(let s), .editService(let s):
            service(s, into: &w)
        case .deleteService(let key):
            serviceKey(key, into: &w)
        case .addRealServer(let key, let rs), .editRealServer(let key, let rs):
            serviceKey(key, into: &w)
            realServer(rs, into: &w)
        case .deleteRealServer(let key, let rs):
            serviceKey(key, into: &w)
            w.beginNested(IPVS_CMD_ATTR_DEST)
            putAddress(IPVS_DEST_ATTR_ADDR, rs.address, into: &w)
            w.put(IPVS_DEST_ATTR_PORT, be16: rs.port)
            if rs.address.family != key.family {
                w.put(IPVS_DEST_ATTR_ADDR_FAMILY, u16: rs.address.family.rawValue)
            }
            w.endNested()
        case .flush:
            break
        case .zero(let key):
            if let key { serviceKey(key, into: &w) }
        case .setTimeouts(let t):
            w.put(IPVS_CMD_ATTR_TIMEOUT_TCP, u32: t.tcp)
            w.put(IPVS_CMD_ATTR_TIMEOUT_TCP_FIN, u32: t.tcpFin)
            w.put(IPVS_CMD_ATTR_TIMEOUT_UDP, u32: t.udp)
        case .startDaemon(let d):
            daemon(d, into: &w)
        case .stopDaemon(let role):
            w.beginNested(IPVS_CMD_ATTR_DAEMON)
            w.put(IPVS_DAEMON_ATTR_STATE, u32: role.rawValue)
            w.endNested()
        }
    }

    /// The service's identity alone, nested in IPVS_CMD_ATTR_SERVICE (delete, zero, destination dumps).
    static func serviceKey(_ key: ServiceKey, into w: inout NetlinkWriter) {
        w.beginNested(IPVS_CMD_ATTR_SERVICE)
        keyAttributes(key, into: &w)
        w.endNested()
    }

    private static func keyAttributes(_ key: ServiceKey, into w: inout NetlinkWriter) {
        w.put(IPVS_SVC_ATTR_AF, u16: key.family.rawValue)
        switch key {
        case .inet(let proto, let address, let port):
            w.put(IPVS_SVC_ATTR_PROTOCOL, u16: proto.rawValue)
            putAddress(IPVS_SVC_ATTR_ADDR, address, into: &w)
            w.put(IPVS_SVC_ATTR_PORT, be16: port)
        case .fwmark(let mark, _):
            w.put(IPVS_SVC_ATTR_FWMARK, u32: mark)
        }
    }

    private static func service(_ s: VirtualService, into w: inout NetlinkWriter) {
        w.beginNested(IPVS_CMD_ATTR_SERVICE)
        keyAttributes(s.key, into: &w)
        w.put(IPVS_SVC_ATTR_SCHED_NAME, string: s.scheduler)
        if let pe = s.persistenceEngine { w.put(IPVS_SVC_ATTR_PE_NAME, string: pe) }
        // struct ip_vs_flags { flags, mask }: a full mask replaces every flag.
        w.put(IPVS_SVC_ATTR_FLAGS, memoryOf: (s.flags.intersection(.userSettable).rawValue.littleEndian, UInt32.max))
        w.put(IPVS_SVC_ATTR_TIMEOUT, u32: s.timeout)
        // IPv4 masks travel in network order; IPv6 "masks" are prefix lengths in host order.
        if s.key.family == .v4 {
            w.put(IPVS_SVC_ATTR_NETMASK, be32: s.netmask)
        } else {
            w.put(IPVS_SVC_ATTR_NETMASK, u32: s.netmask)
        }
        w.endNested()
    }

    /// Attribute order and the always-present tunnel attributes follow ipvsadm 1.31 (libipvs), so that
    /// captures of ipvsadm serve as golden bytes; kernels older than 5.3 ignore the tunnel ones.
    private static func realServer(_ rs: RealServer, into w: inout NetlinkWriter) {
        w.beginNested(IPVS_CMD_ATTR_DEST)
        w.put(IPVS_DEST_ATTR_ADDR_FAMILY, u16: rs.address.family.rawValue)
        putAddress(IPVS_DEST_ATTR_ADDR, rs.address, into: &w)
        w.put(IPVS_DEST_ATTR_PORT, be16: rs.port)
        w.put(IPVS_DEST_ATTR_FWD_METHOD, u32: rs.forwarding.rawValue)
        w.put(IPVS_DEST_ATTR_WEIGHT, u32: UInt32(bitPattern: rs.weight))
        w.put(IPVS_DEST_ATTR_TUN_TYPE, u8: rs.tunnelType.rawValue)
        w.put(IPVS_DEST_ATTR_TUN_PORT, be16: rs.tunnelPort)
        w.put(IPVS_DEST_ATTR_TUN_FLAGS, u16: rs.tunnelFlags.rawValue)
        w.put(IPVS_DEST_ATTR_U_THRESH, u32: rs.upperThreshold)
        w.put(IPVS_DEST_ATTR_L_THRESH, u32: rs.lowerThreshold)
        w.endNested()
    }

    private static func daemon(_ d: SyncDaemon, into w: inout NetlinkWriter) {
        w.beginNested(IPVS_CMD_ATTR_DAEMON)
        w.put(IPVS_DAEMON_ATTR_STATE, u32: d.role.rawValue)
        w.put(IPVS_DAEMON_ATTR_MCAST_IFN, string: d.interface)
        w.put(IPVS_DAEMON_ATTR_SYNC_ID, u32: UInt32(d.syncID))
        if d.maxLength != 0 { w.put(IPVS_DAEMON_ATTR_SYNC_MAXLEN, u16: d.maxLength) }
        if let g = d.group {
            if g.family == .v4 {
                w.put(IPVS_DAEMON_ATTR_MCAST_GROUP, payload: g.bytes)
            } else {
                w.put(IPVS_DAEMON_ATTR_MCAST_GROUP6, payload: g.bytes)
            }
        }
        // Unlike service ports, the sync port travels in host order.
        if d.port != 0 { w.put(IPVS_DAEMON_ATTR_MCAST_PORT, u16: d.port) }
        if d.ttl != 0 { w.put(IPVS_DAEMON_ATTR_MCAST_TTL, u8: d.ttl) }
        w.endNested()
    }

    /// union nf_inet_addr is 16 bytes; libipvs always sends all of them, and so do we: network
    /// order, an IPv4 address in the first four. Written in place (-R sends 50,000 of them).
    static func putAddress(_ type: Int, _ a: IPAddress, into w: inout NetlinkWriter) {
        switch a.family {
        case .v4: w.put(type, memoryOf: (a.v4Value.bigEndian, UInt32(0), UInt32(0), UInt32(0)))
        case .v6: w.put(type, memoryOf: (a.high.bigEndian, a.low.bigEndian))
        }
    }
}
