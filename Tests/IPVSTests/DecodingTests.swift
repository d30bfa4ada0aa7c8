import Testing
@testable import IPVS
import LVSModel

/// Decoding must give back what encoding wrote: the kernel echoes the same attributes in its dumps.
struct DecodingTests {
    func message(_ op: IPVSOperation) -> NetlinkMessage {
        var w = NetlinkWriter()
        w.beginGeneric(family: 0x1c, flags: 0, sequence: 1, command: 1, version: 1)
        IPVSEncoding.attributes(of: op, into: &w)
        w.endMessage()
        return NetlinkMessage.split(w.bytes[...])[0]
    }

    @Test(arguments: [
        VirtualService(key: .inet(.tcp, IPAddress("192.168.61.129")!, 80), scheduler: "rr"),
        VirtualService(key: .inet(.udp, IPAddress("10.0.0.1")!, 53), scheduler: "sh",
                       flags: [.persistent, .schedulerFlag1, .schedulerFlag2], timeout: 3600, netmask: 0xffff_0000),
        VirtualService(key: .inet(.sctp, IPAddress("2001:db8::5")!, 9000), scheduler: "mh", flags: .onePacket, netmask: 48),
        VirtualService(key: .fwmark(0xdead, .v6), scheduler: "wlc", flags: .persistent, timeout: 300,
                       persistenceEngine: "sip"),
    ])
    func servicesRoundTrip(_ svc: VirtualService) throws {
        let (decoded, _) = try IPVSDecoding.service(message(.addService(svc)))
        #expect(decoded == svc)
    }

    @Test(arguments: [
        RealServer(address: IPAddress("192.168.147.129")!, port: 8080, forwarding: .masquerade, weight: 65535,
                   upperThreshold: 100, lowerThreshold: 10),
        RealServer(address: IPAddress("10.1.1.1")!, port: 0, forwarding: .tunnel, weight: 0,
                   tunnelType: .gre, tunnelPort: 0, tunnelFlags: [.checksum, .remoteChecksum]),
        RealServer(address: IPAddress("fd00::10")!, port: 443, forwarding: .route),
    ])
    func realServersRoundTrip(_ rs: RealServer) throws {
        let key = ServiceKey.fwmark(1, rs.address.family)
        let status = try IPVSDecoding.realServer(message(.addRealServer(key, rs)), serviceFamily: key.family)
        var expected = rs
        if rs.forwarding != .tunnel { expected.tunnelType = .ipip }
        #expect(status.server == expected)
    }

    @Test func daemonRoundTrips() {
        let d = SyncDaemon(role: .backup, interface: "eth1", syncID: 9, maxLength: 1400,
                           group: IPAddress("239.1.2.3")!, port: 9000, ttl: 4)
        #expect(IPVSDecoding.daemon(message(.startDaemon(d))) == d)
        let d6 = SyncDaemon(role: .master, interface: "eth0", syncID: 1, group: IPAddress("ff02::1234")!)
        #expect(IPVSDecoding.daemon(message(.startDaemon(d6))) == d6)
    }

    @Test func truncatedBuffersStopCleanly() {
        var w = NetlinkWriter()
        w.beginGeneric(family: 0x1c, flags: 0, sequence: 1, command: 1, version: 1)
        w.put(1, u32: 5)
        w.endMessage()
        #expect(NetlinkMessage.split(w.bytes.dropLast(3)).isEmpty)
        #expect(NetlinkMessage.split(w.bytes[...]).count == 1)
    }
}
