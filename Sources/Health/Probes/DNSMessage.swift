import LVSModel

/// The two DNS messages a check needs (RFC 1035 §4.1): a one-question query, and the header of
/// an answer. Built and read here: the format is a fixed 12-byte header and a name in labels.
public enum DNSMessage {
    /// A query for `name` and `type`, class IN, recursion desired (as keepalived's DNS_CHECK sends).
    /// Throws when a label is empty or longer than 63 bytes, or the name longer than 255.
    public static func query(id: UInt16, name: String, type: DNSRecordType) throws(DNSNameError) -> [UInt8] {
        var bytes: [UInt8] = [UInt8(id >> 8), UInt8(id & 0xff), 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]
        bytes += try encode(name: name)
        bytes += [UInt8(type.code >> 8), UInt8(type.code & 0xff), 0, 1]
        return bytes
    }

    /// A name in labels: `www.example.org` → 3 www 7 example 3 org 0; `.` is the root.
    static func encode(name: String) throws(DNSNameError) -> [UInt8] {
        var text = Substring(name)
        if text.hasSuffix(".") { text = text.dropLast() }
        var out: [UInt8] = []
        if !text.isEmpty {
            for label in text.split(separator: ".", omittingEmptySubsequences: false) {
                let bytes = Array(label.utf8)
                guard !bytes.isEmpty, bytes.count <= 63 else { throw DNSNameError(name: name) }
                out.append(UInt8(bytes.count))
                out += bytes
            }
        }
        out.append(0)
        guard out.count <= 255 else { throw DNSNameError(name: name) }
        return out
    }

    /// What the header of a datagram says, nil when it is shorter than a header.
    public struct Header: Hashable, Sendable {
        public var id: UInt16
        public var isResponse: Bool
        public var responseCode: UInt8
        public var answerCount: UInt16

        public init?(_ bytes: some Collection<UInt8>) {
            guard bytes.count >= 12 else { return nil }
            let b = Array(bytes.prefix(12))
            id = UInt16(b[0]) << 8 | UInt16(b[1])
            isResponse = b[2] & 0x80 != 0
            responseCode = b[3] & 0x0f
            answerCount = UInt16(b[6]) << 8 | UInt16(b[7])
        }
    }

    /// The verdict on one datagram for a query with `id`: nil for one to ignore and keep waiting
    /// (too short, another id, not a response: keepalived ignores those too).
    public static func verdict(answer: some Collection<UInt8>, id: UInt16) -> (ok: Bool, reason: String)? {
        guard let h = Header(answer), h.id == id, h.isResponse else { return nil }
        guard h.responseCode == 0 else { return (false, "answer with rcode \(h.responseCode) (\(rcodeName(h.responseCode)))") }
        return (true, "answer with \(h.answerCount) record\(h.answerCount == 1 ? "" : "s")")
    }

    static func rcodeName(_ code: UInt8) -> String {
        switch code {
        case 1: "FORMERR"
        case 2: "SERVFAIL"
        case 3: "NXDOMAIN"
        case 4: "NOTIMP"
        case 5: "REFUSED"
        default: "rcode \(code)"
        }
    }
}

/// A name that DNS cannot carry.
public struct DNSNameError: Error, Hashable, Sendable, CustomStringConvertible {
    public var name: String
    public var description: String { "\"\(name)\" is not a DNS name: labels of 1 to 63 bytes, 255 in all" }
}
