import Foundation
import Testing
@testable import IPVS
import LVSModel

/// Golden bytes: what ipvsadm 1.31 sent for the same command, captured under strace in the lab
/// (Captures/ipvsadm-1.31.strace; each block starts with the ipvsadm command line).
struct EncodingTests {
    static let capture: [String: [[UInt8]]] = {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Captures/ipvsadm-1.31.strace")
        let text = (try? String(contentsOf: url, encoding: .utf8)) ?? ""
        var result: [String: [[UInt8]]] = [:]
        var current = ""
        for line in text.split(separator: "\n") {
            if line.hasPrefix("CMD ipvsadm ") {
                current = String(line.dropFirst("CMD ipvsadm ".count))
            } else if line.hasPrefix("sendmsg("), let start = line.range(of: "}, \""), let end = line.range(of: "\"]", range: start.upperBound..<line.endIndex) {
                let hex = line[start.upperBound..<end.lowerBound].split(separator: "\\", omittingEmptySubsequences: true)
                result[current, default: []].append(hex.map { UInt8($0.dropFirst(), radix: 16)! })
            }
        }
        return result
    }()

    /// The genlmsghdr and attributes of the one message an operation encodes to.
    func encoded(_ op: IPVSOperation) -> [UInt8] {
        var w = NetlinkWriter()
        w.beginGeneric(family: 0x1c, flags: 5, sequence: 1, command: IPVSEncoding.command(for: op), version: 1)
        IPVSEncoding.attributes(of: op, into: &w)
        w.endMessage()
        return Array(w.bytes.dropFirst(16))
    }

    /// The last message ipvsadm sent for a command: the operation itself, after its GET_INFO probe.
    func ipvsadm(_ command: String) throws -> [UInt8] {
        try #require(Self.capture[command]?.last, "no capture for ipvsadm \(command)")
    }

    static let vip = IPAddress("192.168.61.129")!
    static let web = ServiceKey.inet(.tcp, vip, 80)

    @Test func addServiceMatchesIpvsadm() throws {
        #expect(encoded(.addService(VirtualService(key: Self.web, scheduler: "rr"))) == (try ipvsadm("-A -t 192.168.61.129:80 -s rr")))
    }

    @Test func firewallMarkServiceWithPersistenceMatchesIpvsadm() throws {
        let svc = VirtualService(key: .fwmark(1000, .v4), scheduler: "sh", flags: [.persistent, .schedulerFlag1],
                                 timeout: 60, netmask: 0xffff_ff00)
        #expect(encoded(.addService(svc)) == (try ipvsadm("-A -f 1000 -s sh -p 60 -M 255.255.255.0 -b sh-fallback")))
        #expect(encoded(.editService(svc)) == (try ipvsadm("-E -f 1000 -s sh -p 60 -M 255.255.255.0 -b sh-fallback")))
    }

    @Test func ipv6ServiceCarriesPrefixLengthInHostOrder() throws {
        let svc = VirtualService(key: .inet(.tcp, IPAddress("2001:db8::1")!, 443), scheduler: "wlc",
                                 flags: .persistent, timeout: 120, netmask: 64)
        #expect(encoded(.addService(svc)) == (try ipvsadm("-A -t [2001:db8::1]:443 -s wlc -p 120 -M 64")))
    }

    @Test func timeoutsMatchIpvsadm() throws {
        #expect(encoded(.setTimeouts(Timeouts(tcp: 1000, tcpFin: 100, udp: 200))) == (try ipvsadm("--set 1000 100 200")))
    }

    @Test func daemonStartMatchesIpvsadm() throws {
        #expect(encoded(.startDaemon(SyncDaemon(role: .master, interface: "lo", syncID: 5)))
                == (try ipvsadm("--start-daemon master --mcast-interface lo --syncid 5")))
    }

    @Test func zeroAndFlushAreBareCommands() throws {
        #expect(encoded(.zero(nil)) == (try ipvsadm("-Z")))
        #expect(encoded(.flush) == (try ipvsadm("-C")))
    }

    /// ipvsadm nests the whole service (empty scheduler, zero flags) in destination requests; lvsh sends
    /// only the service's identity, which is all the kernel reads there. The destination part is identical.
    @Test(arguments: [
        ("-a -t 192.168.61.129:80 -r 192.168.147.129:80 -m -w 3 -x 10 -y 2",
         IPVSOperation.addRealServer(web, RealServer(address: IPAddress("192.168.147.129")!, port: 80, forwarding: .masquerade,
                                                      weight: 3, upperThreshold: 10, lowerThreshold: 2))),
        ("-a -f 1000 -r 192.168.147.130 -i --tun-type gue --tun-port 6080 --tun-csum",
         IPVSOperation.addRealServer(.fwmark(1000, .v4), RealServer(address: IPAddress("192.168.147.130")!, port: 0,
                                                                     forwarding: .tunnel, tunnelType: .gue, tunnelPort: 6080,
                                                                     tunnelFlags: .checksum))),
    ])
    func destinationAttributesMatchIpvsadm(command: String, op: IPVSOperation) throws {
        let theirs = try ipvsadm(command)
        let ours = encoded(op)
        #expect(ours.prefix(4) == theirs.prefix(4))
        #expect(destinationNest(ours) == destinationNest(theirs))
        #expect(destinationNest(ours) != nil)
    }

    func destinationNest(_ payload: [UInt8]) -> [UInt8]? {
        var i = 4
        while i + 4 <= payload.count {
            let len = Int(payload[i]) | Int(payload[i + 1]) << 8
            let type = (Int(payload[i + 2]) | Int(payload[i + 3]) << 8) & 0x3fff
            if type == 2 { return Array(payload[i..<(i + len)]) }
            i += (len + 3) & ~3
        }
        return nil
    }

    @Test func captureWasRead() {
        #expect(Self.capture.count >= 10)
    }
}
