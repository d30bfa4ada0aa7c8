/// keepalived's SMTP_CHECK as a pure state machine: read the 220 greeting, send HELO, expect a 2xx
/// answer, say QUIT. Fed one reply line at a time (multi-line replies: `250-...` then `250 ...`).
public struct SMTPDialogue: Hashable, Sendable {
    /// What the probe does after a line.
    public enum Step: Hashable, Sendable {
        /// Read more lines.
        case wait
        /// Write this text (with its CRLF) and read more lines.
        case send(String)
        /// The verdict; `then` is text to write before closing (QUIT).
        case finish(ok: Bool, reason: String, then: String?)
    }

    enum Phase: Hashable, Sendable { case greeting, helo, done }

    public let helo: String
    var phase = Phase.greeting

    public init(helo: String) { self.helo = helo }

    public mutating func receive(line: String) -> Step {
        let bytes = Array(line.utf8)
        guard bytes.count >= 3, bytes[0...2].allSatisfy({ (0x30...0x39).contains($0) }) else {
            phase = .done
            return .finish(ok: false, reason: "not an SMTP reply: \(Self.clip(line))", then: nil)
        }
        // A hyphen after the code continues the reply; only its last line decides.
        if bytes.count > 3 && bytes[3] == UInt8(ascii: "-") { return .wait }
        let code = Int(String(decoding: bytes[0...2], as: UTF8.self))!
        switch phase {
        case .greeting:
            guard code == 220 else {
                phase = .done
                return .finish(ok: false, reason: "greeting \(Self.clip(line))", then: "QUIT\r\n")
            }
            phase = .helo
            return .send("HELO \(helo)\r\n")
        case .helo:
            phase = .done
            guard (200...299).contains(code) else { return .finish(ok: false, reason: "HELO answered \(Self.clip(line))", then: "QUIT\r\n") }
            return .finish(ok: true, reason: "HELO answered \(code)", then: "QUIT\r\n")
        case .done:
            return .wait
        }
    }

    static func clip(_ line: String) -> String { line.count > 80 ? String(line.prefix(80)) + "…" : line }
}
