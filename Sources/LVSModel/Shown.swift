/// How a message shows what the user typed: a word quoted in an error could hold control bytes that
/// a terminal would act on, or be megabytes long. Control characters (and the invisible bidirectional
/// controls) are escaped, `\x1b` or `\u{202E}`; other Unicode is kept; a long word is cut.
public enum Shown {
    /// How many characters of a word a message shows before "…".
    public static let limit = 64
    /// How many characters of a source line an error echoes.
    public static let lineLimit = 256

    /// A user's word for quoting in a message: escaped, and cut after `limit` characters with "…".
    public static func word<S: StringProtocol>(_ word: S, limit: Int = Shown.limit) -> String {
        if isPlain(word.utf8, limit: limit, keepTabs: false) { return String(word) }
        return escaped(word, limit: limit, keepTabs: false)
    }

    /// A source line for an error's echo: escaped (tabs kept: they are layout), cut after `limit`.
    public static func line<S: StringProtocol>(_ line: S, limit: Int = Shown.lineLimit) -> String {
        if isPlain(line.utf8, limit: limit, keepTabs: true) { return String(line) }
        return escaped(line, limit: limit, keepTabs: true)
    }

    /// A whole message whose wording is not lvsh's (ipvsadm's, a tool's): control characters escaped,
    /// newlines and tabs kept, nothing cut.
    public static func message(_ text: String) -> String {
        if isPlain(text.utf8, limit: Int.max, keepTabs: true, keepNewlines: true) { return text }
        var out = ""
        for scalar in text.unicodeScalars {
            if scalar == "\n" || scalar == "\t" { out.unicodeScalars.append(scalar) } else { append(scalar, to: &out, keepTabs: true) }
        }
        return out
    }

    /// Whether the bytes are printable ASCII (and tabs or newlines, when kept) and at most `limit` long.
    private static func isPlain<U: Collection>(_ utf8: U, limit: Int, keepTabs: Bool, keepNewlines: Bool = false) -> Bool
    where U.Element == UInt8 {
        var n = 0
        for b in utf8 {
            n += 1
            if n > limit { return false }
            if b >= 0x20 && b < 0x7f { continue }
            if (b == 0x09 && keepTabs) || (b == 0x0a && keepNewlines) { continue }
            return false
        }
        return true
    }

    private static func escaped<S: StringProtocol>(_ text: S, limit: Int, keepTabs: Bool) -> String {
        var out = ""
        var count = 0
        for scalar in text.unicodeScalars {
            if count == limit { return out + "…" }
            append(scalar, to: &out, keepTabs: keepTabs)
            count += 1
        }
        return out
    }

    private static func append(_ scalar: Unicode.Scalar, to out: inout String, keepTabs: Bool) {
        let v = scalar.value
        if scalar == "\t" && keepTabs {
            out.append("\t")
        } else if v < 0x20 || (0x7f...0x9f).contains(v) {
            out += "\\x" + (v < 0x10 ? "0" : "") + String(v, radix: 16)
        } else if v == 0x061c || v == 0x200e || v == 0x200f || (0x202a...0x202e).contains(v) || (0x2066...0x2069).contains(v)
                    || v == 0x2028 || v == 0x2029 {
            out += "\\u{" + String(v, radix: 16, uppercase: true) + "}"
        } else {
            out.unicodeScalars.append(scalar)
        }
    }
}
