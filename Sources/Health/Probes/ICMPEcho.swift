/// ICMP and ICMPv6 echo messages (RFC 792, RFC 4443), built and read for the ping check.
public enum ICMPEcho {
    /// An echo request; the checksum is filled for IPv4 (the kernel fills ICMPv6's, and rewrites
    /// both the identifier and the checksum on an unprivileged ping socket).
    public static func request(v6: Bool, identifier: UInt16, sequence: UInt16, payload: [UInt8]) -> [UInt8] {
        var bytes: [UInt8] = [v6 ? 128 : 8, 0, 0, 0, UInt8(identifier >> 8), UInt8(identifier & 0xff),
                              UInt8(sequence >> 8), UInt8(sequence & 0xff)] + payload
        if !v6 {
            let sum = checksum(bytes)
            bytes[2] = UInt8(sum >> 8)
            bytes[3] = UInt8(sum & 0xff)
        }
        return bytes
    }

    /// Whether a received datagram is the reply to our request. A raw IPv4 socket hands over the IP
    /// header too (`includesIPHeader`); a ping socket's identifier is the kernel's, so it is not compared.
    public static func isReply(_ packet: [UInt8], v6: Bool, includesIPHeader: Bool, identifier: UInt16?, sequence: UInt16) -> Bool {
        var start = 0
        if includesIPHeader {
            guard let first = packet.first else { return false }
            start = Int(first & 0x0f) * 4
        }
        guard packet.count >= start + 8 else { return false }
        let icmp = packet[start...]
        guard icmp[start] == (v6 ? 129 : 0), icmp[start + 1] == 0 else { return false }
        let id = UInt16(icmp[start + 4]) << 8 | UInt16(icmp[start + 5])
        let seq = UInt16(icmp[start + 6]) << 8 | UInt16(icmp[start + 7])
        return seq == sequence && (identifier == nil || id == identifier)
    }

    /// The Internet checksum (RFC 1071): the ones' complement of the ones' complement sum of 16-bit words.
    public static func checksum(_ bytes: [UInt8]) -> UInt16 {
        var sum: UInt32 = 0
        var i = 0
        while i + 1 < bytes.count {
            sum += UInt32(bytes[i]) << 8 | UInt32(bytes[i + 1])
            i += 2
        }
        if i < bytes.count { sum += UInt32(bytes[i]) << 8 }
        while sum >> 16 != 0 { sum = (sum & 0xffff) + (sum >> 16) }
        return ~UInt16(sum)
    }
}
