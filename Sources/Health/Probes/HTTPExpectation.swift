import Crypto
import LVSModel

/// The verdict on an HTTP answer (keepalived's HTTP_GET): status in the accepted ranges, then the
/// body against `expect` (a Swift Regex, anywhere in the body) and `digest` (MD5, lower-case hex).
public enum HTTPExpectation {
    /// Whether the verdict needs the body; without, the probe closes after the head.
    public static func needsBody(_ probe: HTTPProbe) -> Bool { probe.expect != nil || probe.digest != nil }

    /// ok and a reason, from the status and the body (empty when not needed).
    public static func evaluate(_ probe: HTTPProbe, status: UInt16, body: [UInt8]) -> (ok: Bool, reason: String) {
        guard probe.status.contains(where: { $0.contains(status) }) else {
            return (false, "status \(status), expected \(statusWords(probe.status))")
        }
        if let pattern = probe.expect {
            guard let regex = try? Regex(pattern) else { return (false, "expect \(pattern) is not a regular expression") }
            let text = String(decoding: body, as: UTF8.self)
            guard text.contains(regex) else { return (false, "status \(status), body does not match \(pattern)") }
        }
        if let digest = probe.digest {
            let got = md5Hex(body)
            guard got == digest.lowercased() else { return (false, "status \(status), body digest \(got), expected \(digest.lowercased())") }
        }
        return (true, "status \(status)")
    }

    /// keepalived's `digest`: the MD5 of the body, 32 lower-case hex digits.
    public static func md5Hex(_ body: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        for byte in Insecure.MD5.hash(data: body) {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func statusWords(_ ranges: [ClosedRange<UInt16>]) -> String {
        ranges.map { $0.count == 1 ? "\($0.lowerBound)" : "\($0.lowerBound)-\($0.upperBound)" }.joined(separator: ",")
    }
}
