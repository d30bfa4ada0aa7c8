import LVSModel

/// The TCP segments of a half-open check (RFC 9293): the SYN it sends, the SYN-ACK or RST it reads,
/// and the socket filter that lets only the answers to its port reach it.
public enum TCPSegment {
    /// What came back for a SYN.
    public enum Answer: Equatable, Sendable {
        /// SYN-ACK: something listens on the port.
        case synAck
        /// RST: nothing listens there.
        case reset
    }

    /// One answer as read from a raw socket.
    public struct Reply: Equatable, Sendable {
        public var sourcePort: UInt16
        public var destinationPort: UInt16
        /// The acknowledgement number, which for an answer to our SYN is its sequence number + 1.
        public var acknowledgement: UInt32
        public var answer: Answer
    }

    /// A SYN from `source`:`sourcePort` to `destination`:`port` with sequence number `sequence`, an
    /// MSS option of 1460 and the checksum over the pseudo-header (the kernel adds the IP header of
    /// a raw socket; it fills no TCP checksum for IPv4, and for IPv6 only when asked to).
    public static func syn(source: IPAddress, sourcePort: UInt16, destination: IPAddress, port: UInt16, sequence: UInt32) -> [UInt8] {
        var s: [UInt8] = []
        s.reserveCapacity(24)
        s.append(contentsOf: bytes(sourcePort))
        s.append(contentsOf: bytes(port))
        s.append(contentsOf: bytes(sequence))
        s.append(contentsOf: [0, 0, 0, 0]) // acknowledgement
        s.append(6 << 4) // data offset: 6 words (the MSS option)
        s.append(0x02) // SYN
        s.append(contentsOf: bytes(UInt16(64240))) // window
        s.append(contentsOf: [0, 0, 0, 0]) // checksum, urgent pointer
        s.append(contentsOf: [2, 4] + bytes(UInt16(1460))) // MSS
        let sum = checksum(s, source: source, destination: destination)
        s[16] = UInt8(sum >> 8)
        s[17] = UInt8(sum & 0xff)
        return s
    }

    /// The TCP checksum: the Internet checksum of the pseudo-header (RFC 9293 §3.1, RFC 8200 §8.1)
    /// and the segment.
    public static func checksum(_ segment: [UInt8], source: IPAddress, destination: IPAddress) -> UInt16 {
        var pseudo = source.bytes + destination.bytes
        if source.family == .v6 {
            pseudo += bytes(UInt32(segment.count)) + [0, 0, 0, 6]
        } else {
            pseudo += [0, 6] + bytes(UInt16(segment.count))
        }
        return ICMPEcho.checksum(pseudo + segment)
    }

    /// The answer in a packet read from a raw socket (an IPv4 one begins with the IP header), nil for
    /// anything that is not a SYN-ACK or a RST.
    public static func reply(_ packet: some Collection<UInt8>, includesIPHeader: Bool) -> Reply? {
        let p = Array(packet)
        var start = 0
        if includesIPHeader {
            guard let first = p.first, first >> 4 == 4 else { return nil }
            start = Int(first & 0x0f) * 4
        }
        guard p.count >= start + 20 else { return nil }
        func u16(_ i: Int) -> UInt16 { UInt16(p[start + i]) << 8 | UInt16(p[start + i + 1]) }
        let flags = p[start + 13]
        let ack = UInt32(u16(8)) << 16 | UInt32(u16(10))
        let answer: Answer
        if flags & 0x04 != 0 { answer = .reset } else if flags & 0x12 == 0x12 { answer = .synAck } else { return nil }
        return Reply(sourcePort: u16(0), destinationPort: u16(2), acknowledgement: ack, answer: answer)
    }

    /// A classic BPF program for a raw TCP socket: keep segments to `port`, drop the rest in the
    /// kernel, so that the host's other TCP traffic costs the checker nothing. `includesIPHeader`:
    /// an IPv4 raw socket's filter sees the IP header, an IPv6 one's the TCP header.
    public static func filter(port: UInt16, includesIPHeader: Bool) -> [(code: UInt16, jt: UInt8, jf: UInt8, k: UInt32)] {
        let ret: UInt16 = 0x06, jeq: UInt16 = 0x15, ldhAbs: UInt16 = 0x28, ldhInd: UInt16 = 0x48, ldxMSH: UInt16 = 0xb1
        if includesIPHeader {
            return [(ldxMSH, 0, 0, 0), // X = 4 * (IP header length)
                    (ldhInd, 0, 0, 2), // A = the TCP destination port
                    (jeq, 0, 1, UInt32(port)),
                    (ret, 0, 0, 0xffff),
                    (ret, 0, 0, 0)]
        }
        return [(ldhAbs, 0, 0, 2), (jeq, 0, 1, UInt32(port)), (ret, 0, 0, 0xffff), (ret, 0, 0, 0)]
    }

    static func bytes(_ v: UInt16) -> [UInt8] { [UInt8(v >> 8), UInt8(v & 0xff)] }
    static func bytes(_ v: UInt32) -> [UInt8] { [UInt8(v >> 24), UInt8(v >> 16 & 0xff), UInt8(v >> 8 & 0xff), UInt8(v & 0xff)] }
}
