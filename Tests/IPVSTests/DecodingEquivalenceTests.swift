import Testing
import TestSupport
import CNetlink
@testable import IPVS
import LVSModel

/// The service and destination decoders read attributes in place (`AttributeTable`, and one pass for
/// counters); on any attributes, well-formed or not, they must give what reading them through
/// `NetlinkAttributes` tables gives.
struct DecodingEquivalenceTests {

    // MARK: the reference: the table-based decoding

    static func referenceService(_ message: NetlinkMessage) throws(LVSError) -> (VirtualService, Stats) {
        guard let nested = NetlinkAttributes(message.payload.dropFirst(4), maxType: __IPVS_CMD_ATTR_MAX - 1)[IPVS_CMD_ATTR_SERVICE] else {
            throw .failed("IPVS answered a service dump without a service")
        }
        let a = NetlinkAttributes(nested, maxType: __IPVS_SVC_ATTR_MAX - 1)
        guard let afRaw = a.u16(IPVS_SVC_ATTR_AF), let family = IPAddress.Family(rawValue: afRaw) else {
            throw .failed("IPVS answered a service with an unknown address family")
        }
        let key: ServiceKey
        if let mark = a.u32(IPVS_SVC_ATTR_FWMARK), mark != 0 {
            key = .fwmark(mark, family)
        } else {
            guard let protoRaw = a.u16(IPVS_SVC_ATTR_PROTOCOL), let proto = L4Protocol(rawValue: protoRaw),
                  let addr = referenceAddress(a[IPVS_SVC_ATTR_ADDR], family: family), let port = a.be16(IPVS_SVC_ATTR_PORT) else {
                throw .failed("IPVS answered a service without protocol, address or port")
            }
            key = .inet(proto, addr, port)
        }
        var flags = ServiceFlags()
        if let f = a[IPVS_SVC_ATTR_FLAGS], f.count >= 4 {
            flags = ServiceFlags(rawValue: readLE32(f, at: f.startIndex)).intersection(.userSettable)
        }
        let netmask: UInt32 = family == .v4 ? (a.be32(IPVS_SVC_ATTR_NETMASK) ?? 0xffff_ffff) : (a.u32(IPVS_SVC_ATTR_NETMASK) ?? 128)
        let pe = a.string(IPVS_SVC_ATTR_PE_NAME).flatMap { $0.isEmpty ? nil : $0 }
        let svc = VirtualService(key: key, scheduler: a.string(IPVS_SVC_ATTR_SCHED_NAME) ?? "", flags: flags,
                                 timeout: a.u32(IPVS_SVC_ATTR_TIMEOUT) ?? 0, netmask: netmask, persistenceEngine: pe)
        return (svc, referenceStats(a[IPVS_SVC_ATTR_STATS64], a[IPVS_SVC_ATTR_STATS]))
    }

    static func referenceRealServer(_ message: NetlinkMessage, serviceFamily: IPAddress.Family) throws(LVSError) -> RealServerStatus {
        guard let nested = NetlinkAttributes(message.payload.dropFirst(4), maxType: __IPVS_CMD_ATTR_MAX - 1)[IPVS_CMD_ATTR_DEST] else {
            throw .failed("IPVS answered a destination dump without a destination")
        }
        let a = NetlinkAttributes(nested, maxType: __IPVS_DEST_ATTR_MAX - 1)
        let family = a.u16(IPVS_DEST_ATTR_ADDR_FAMILY).flatMap(IPAddress.Family.init(rawValue:)) ?? serviceFamily
        guard let addr = referenceAddress(a[IPVS_DEST_ATTR_ADDR], family: family), let port = a.be16(IPVS_DEST_ATTR_PORT) else {
            throw .failed("IPVS answered a destination without address or port")
        }
        let method = ForwardingMethod(rawValue: (a.u32(IPVS_DEST_ATTR_FWD_METHOD) ?? 0) & 0x7) ?? .masquerade
        let rs = RealServer(address: addr, port: port, forwarding: method, weight: Int32(bitPattern: a.u32(IPVS_DEST_ATTR_WEIGHT) ?? 0),
                            upperThreshold: a.u32(IPVS_DEST_ATTR_U_THRESH) ?? 0, lowerThreshold: a.u32(IPVS_DEST_ATTR_L_THRESH) ?? 0,
                            tunnelType: a.u8(IPVS_DEST_ATTR_TUN_TYPE).flatMap(TunnelType.init(rawValue:)) ?? .ipip,
                            tunnelPort: a.be16(IPVS_DEST_ATTR_TUN_PORT) ?? 0,
                            tunnelFlags: TunnelFlags(rawValue: a.u16(IPVS_DEST_ATTR_TUN_FLAGS) ?? 0))
        return RealServerStatus(server: rs, activeConnections: a.u32(IPVS_DEST_ATTR_ACTIVE_CONNS) ?? 0,
                                inactiveConnections: a.u32(IPVS_DEST_ATTR_INACT_CONNS) ?? 0,
                                persistentConnections: a.u32(IPVS_DEST_ATTR_PERSIST_CONNS) ?? 0,
                                stats: referenceStats(a[IPVS_DEST_ATTR_STATS64], a[IPVS_DEST_ATTR_STATS]))
    }

    static func referenceAddress(_ raw: ArraySlice<UInt8>?, family: IPAddress.Family) -> IPAddress? {
        guard let raw else { return nil }
        let n = family == .v4 ? 4 : 16
        guard raw.count >= n else { return nil }
        return IPAddress(bytes: raw.prefix(n))
    }

    static func referenceStats(_ s64: ArraySlice<UInt8>?, _ s32: ArraySlice<UInt8>?) -> Stats {
        var s = Stats()
        if let s64 {
            let a = NetlinkAttributes(s64, maxType: __IPVS_STATS_ATTR_MAX - 1)
            (s.connections, s.packetsIn, s.packetsOut) = (a.u64(IPVS_STATS_ATTR_CONNS) ?? 0, a.u64(IPVS_STATS_ATTR_INPKTS) ?? 0, a.u64(IPVS_STATS_ATTR_OUTPKTS) ?? 0)
            (s.bytesIn, s.bytesOut) = (a.u64(IPVS_STATS_ATTR_INBYTES) ?? 0, a.u64(IPVS_STATS_ATTR_OUTBYTES) ?? 0)
            (s.connectionsPerSecond, s.packetsInPerSecond) = (a.u64(IPVS_STATS_ATTR_CPS) ?? 0, a.u64(IPVS_STATS_ATTR_INPPS) ?? 0)
            (s.packetsOutPerSecond, s.bytesInPerSecond, s.bytesOutPerSecond) = (a.u64(IPVS_STATS_ATTR_OUTPPS) ?? 0, a.u64(IPVS_STATS_ATTR_INBPS) ?? 0, a.u64(IPVS_STATS_ATTR_OUTBPS) ?? 0)
        } else if let s32 {
            let a = NetlinkAttributes(s32, maxType: __IPVS_STATS_ATTR_MAX - 1)
            func w(_ t: Int) -> UInt64 { UInt64(a.u32(t) ?? 0) }
            (s.connections, s.packetsIn, s.packetsOut) = (w(IPVS_STATS_ATTR_CONNS), w(IPVS_STATS_ATTR_INPKTS), w(IPVS_STATS_ATTR_OUTPKTS))
            (s.bytesIn, s.bytesOut) = (a.u64(IPVS_STATS_ATTR_INBYTES) ?? 0, a.u64(IPVS_STATS_ATTR_OUTBYTES) ?? 0)
            (s.connectionsPerSecond, s.packetsInPerSecond) = (w(IPVS_STATS_ATTR_CPS), w(IPVS_STATS_ATTR_INPPS))
            (s.packetsOutPerSecond, s.bytesInPerSecond, s.bytesOutPerSecond) = (w(IPVS_STATS_ATTR_OUTPPS), w(IPVS_STATS_ATTR_INBPS), w(IPVS_STATS_ATTR_OUTBPS))
        }
        return s
    }

    // MARK: random attributes

    static func payload(_ rng: inout SeededGenerator) -> [UInt8] {
        let sizes = [0, 1, 2, 3, 4, 5, 8, 12, 16, 20]
        let n = sizes[Int(rng.next() % UInt64(sizes.count))]
        return (0..<n).map { _ in UInt8(truncatingIfNeeded: rng.next() % 4 == 0 ? rng.next() : rng.next() % 3) }
    }

    static func level(_ rng: inout SeededGenerator, maxType: Int, nested: (inout SeededGenerator, Int) -> [UInt8]?) -> [UInt8] {
        var out: [UInt8] = []
        for _ in 0..<(Int(rng.next() % 24)) {
            let type = Int(rng.next() % UInt64(maxType + 3))
            let body = nested(&rng, type) ?? payload(&rng)
            var len = 4 + body.count
            if rng.next() % 40 == 0 { len = Int(rng.next() % 8) }  // a broken header ends the level
            let flag = rng.next() % 8 == 0 ? nlaFlagNested : 0
            out += [UInt8(len & 0xff), UInt8(len >> 8), UInt8((type | flag) & 0xff), UInt8((type | flag) >> 8)] + body
            while out.count % 4 != 0 { out.append(UInt8(truncatingIfNeeded: rng.next())) }
        }
        if rng.next() % 10 == 0 { out.removeLast(min(out.count, Int(rng.next() % 6))) }
        return out
    }

    static func message(_ rng: inout SeededGenerator, inner: Int, innerMax: Int, stats: (Int, Int)) -> NetlinkMessage {
        let statsLevel: (inout SeededGenerator, Int) -> [UInt8]? = { rng, t in
            t == stats.0 || t == stats.1 ? level(&rng, maxType: __IPVS_STATS_ATTR_MAX - 1) { _, _ in nil } : nil
        }
        let top = level(&rng, maxType: __IPVS_CMD_ATTR_MAX - 1) { rng, t in
            t == inner ? level(&rng, maxType: innerMax, nested: statsLevel) : nil
        }
        let genl: [UInt8] = rng.next() % 30 == 0 ? [1] : [1, 1, 0, 0]
        return NetlinkMessage(type: 0x1c, flags: 0, sequence: 1, payload: (genl + top)[...])
    }

    @Test func servicesDecodeAsWithTables() {
        var rng = SeededGenerator(state: 11)
        var decoded = 0
        for _ in 0..<30000 {
            let m = Self.message(&rng, inner: IPVS_CMD_ATTR_SERVICE, innerMax: __IPVS_SVC_ATTR_MAX - 1,
                                 stats: (IPVS_SVC_ATTR_STATS, IPVS_SVC_ATTR_STATS64))
            let a = Result { () throws(LVSError) in try IPVSDecoding.service(m) }
            let b = Result { () throws(LVSError) in try Self.referenceService(m) }
            switch (a, b) {
            case (.success(let x), .success(let y)):
                decoded += 1
                #expect(x.0 == y.0 && x.1 == y.1)
                // A listing's decoding: the same service, the counters left zero.
                let plain = try? IPVSDecoding.service(m, counters: false)
                #expect(plain?.0 == y.0 && plain?.1 == Stats())
            case (.failure(let x), .failure(let y)): #expect(x.message == y.message)
            default: #expect(Bool(false), "\(a) vs \(b)")
            }
        }
        #expect(decoded > 100)
    }

    @Test func destinationsDecodeAsWithTables() {
        var rng = SeededGenerator(state: 12)
        var decoded = 0
        for i in 0..<30000 {
            let m = Self.message(&rng, inner: IPVS_CMD_ATTR_DEST, innerMax: __IPVS_DEST_ATTR_MAX - 1,
                                 stats: (IPVS_DEST_ATTR_STATS, IPVS_DEST_ATTR_STATS64))
            let family: IPAddress.Family = i % 2 == 0 ? .v4 : .v6
            let a = Result { () throws(LVSError) in try IPVSDecoding.realServer(m, serviceFamily: family) }
            let b = Result { () throws(LVSError) in try Self.referenceRealServer(m, serviceFamily: family) }
            switch (a, b) {
            case (.success(let x), .success(let y)):
                decoded += 1
                #expect(x == y)
                var withoutCounters = y
                withoutCounters.stats = Stats()
                #expect((try? IPVSDecoding.realServer(m, serviceFamily: family, counters: false)) == withoutCounters)
            case (.failure(let x), .failure(let y)): #expect(x.message == y.message)
            default: #expect(Bool(false), "\(a) vs \(b)")
            }
        }
        #expect(decoded > 100)
    }
}
