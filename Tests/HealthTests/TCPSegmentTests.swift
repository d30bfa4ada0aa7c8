@testable import Health
import LVSModel
import Testing

@Suite("TCP segments of the half-open check")
struct TCPSegmentTests {
    let a = IPAddress("10.0.0.1")!, b = IPAddress("10.1.0.7")!

    @Test func aSYNCarriesItsPortsSequenceAndAChecksumThatVerifies() {
        let s = TCPSegment.syn(source: a, sourcePort: 40000, destination: b, port: 80, sequence: 0xdead_beef)
        #expect(s.count == 24)
        #expect(Array(s[0..<4]) == [0x9c, 0x40, 0x00, 0x50])
        #expect(Array(s[4..<8]) == [0xde, 0xad, 0xbe, 0xef])
        #expect(s[12] == 0x60 && s[13] == 0x02) // 6 words, SYN only
        #expect(Array(s[20..<24]) == [2, 4, 0x05, 0xb4]) // MSS 1460
        // The receiver's check: the checksum over pseudo-header and segment, its field included, is 0.
        #expect(TCPSegment.checksum(s, source: a, destination: b) == 0)
        #expect(TCPSegment.checksum(s, source: IPAddress("10.0.0.2")!, destination: b) != 0)
    }

    @Test func anIPv6SYNChecksumsOverTheIPv6PseudoHeader() {
        let x = IPAddress("fd00::1")!, y = IPAddress("fd00::2")!
        let s = TCPSegment.syn(source: x, sourcePort: 1, destination: y, port: 443, sequence: 7)
        #expect(TCPSegment.checksum(s, source: x, destination: y) == 0)
    }

    /// A SYN-ACK and a RST as a raw IPv4 socket reads them (IP header first), and as IPv6 (none).
    @Test func repliesAreReadWithOrWithoutTheIPHeader() {
        func segment(flags: UInt8, ack: UInt32) -> [UInt8] {
            [0x00, 0x50, 0x9c, 0x40, 0, 0, 0, 1, UInt8(ack >> 24), UInt8(ack >> 16 & 0xff), UInt8(ack >> 8 & 0xff), UInt8(ack & 0xff),
             0x50, flags, 0xff, 0xff, 0, 0, 0, 0]
        }
        let ip: [UInt8] = [0x45] + [UInt8](repeating: 0, count: 19)
        let synAck = TCPSegment.reply(ip + segment(flags: 0x12, ack: 0xdead_bef0), includesIPHeader: true)
        #expect(synAck == TCPSegment.Reply(sourcePort: 80, destinationPort: 40000, acknowledgement: 0xdead_bef0, answer: .synAck))
        #expect(TCPSegment.reply(segment(flags: 0x14, ack: 5), includesIPHeader: false)?.answer == .reset)
        #expect(TCPSegment.reply(segment(flags: 0x10, ack: 5), includesIPHeader: false) == nil) // a bare ACK
        #expect(TCPSegment.reply(ip + segment(flags: 0x12, ack: 1).prefix(12), includesIPHeader: true) == nil) // cut short
        #expect(TCPSegment.reply([0x60] + ip.dropFirst() + segment(flags: 0x12, ack: 1), includesIPHeader: true) == nil) // not IPv4
    }

    @Test func theFilterKeepsOnlyTheCheckersPort() {
        let v4 = TCPSegment.filter(port: 40000, includesIPHeader: true)
        #expect(v4.count == 5 && v4[2].k == 40000 && v4[3].k == 0xffff && v4[4].k == 0)
        let v6 = TCPSegment.filter(port: 40000, includesIPHeader: false)
        #expect(v6.count == 4 && v6[0].k == 2 && v6[1].k == 40000)
    }
}
