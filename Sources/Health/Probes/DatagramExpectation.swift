/// The verdict on a UDP check's answer: it passes when it starts with the expected bytes (keepalived's
/// require_reply compares up to the shorter of the two; lvsh asks for the whole prefix).
public enum DatagramExpectation {
    public static func evaluate(answer: [UInt8], expect: [UInt8]?) -> (ok: Bool, reason: String) {
        guard let expect else { return (true, "answer of \(answer.count) bytes") }
        guard answer.starts(with: expect) else {
            return (false, "answer \(hex(answer.prefix(16)))\(answer.count > 16 ? "…" : "") does not start with \(hex(expect))")
        }
        return (true, "answer of \(answer.count) bytes starts with \(hex(expect))")
    }

    /// Lower-case hex without separators, as `payload` and `expect` are written.
    public static func hex(_ bytes: some Sequence<UInt8>) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        for b in bytes {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
