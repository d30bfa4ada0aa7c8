import LVSModel

/// Words of the lvsh language as its tokenizer reads them back.
enum LVSHText {
    /// A word quoted for the lvsh tokenizer when it needs to be (blanks, quotes, `#`, `;`, `\`).
    static func word(_ w: String) -> String {
        let plain = !w.isEmpty && w.unicodeScalars.allSatisfy { s in
            s.isASCII && s.value > 32 && s.value < 127 && !"'\"#;\\|".unicodeScalars.contains(s)
        }
        if plain { return w }
        return "'" + w.replacing("'", with: "'\\''") + "'"
    }

    /// An address as a real server or sorry server: `10.0.0.1:80`, `[2001:db8::1]:80`.
    static func endpoint(_ a: IPAddress, _ port: UInt16) -> String {
        a.endpoint(port)
    }

    /// Milliseconds as lvsh's SECONDS: "1.5".
    static func seconds(_ ms: UInt32) -> String { SecondsText.text(ms) }

    static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef")
        return String(bytes.flatMap { [digits[Int($0 >> 4)], digits[Int($0 & 15)]] })
    }

    /// A name the lvsh language takes for a group or a check, made from a keepalived name.
    static func name(_ raw: String, fallback: String) -> String {
        var n = String(raw.map { c -> Character in
            c.isASCII && (c.isLetter || c.isNumber || c == "-" || c == "_" || c == ".") ? c : "-"
        })
        if n.first.map({ !($0.isASCII && $0.isLetter) }) ?? true { n = fallback + "-" + n }
        if n.hasSuffix("-") { n.removeLast() }
        if ["tcp", "udp", "sctp", "fwmark", "any", "vip", "mark", "add", "del"].contains(n.lowercased()) { n = fallback + "-" + n }
        return String(n.prefix(64))
    }
}
