/// lvsh's SECONDS values as text: milliseconds in, the shortest decimal that reads back (`1500` → "1.5").
public enum SecondsText {
    public static func text(_ ms: UInt32) -> String {
        let whole = ms / 1000, fraction = ms % 1000
        guard fraction != 0 else { return String(whole) }
        var f = String(fraction)
        f = String(repeating: "0", count: 3 - f.count) + f
        while f.hasSuffix("0") { f.removeLast() }
        return "\(whole).\(f)"
    }

    /// A duration the same way, to the millisecond.
    public static func text(_ d: Duration) -> String {
        let (seconds, attoseconds) = d.components
        return text(UInt32(clamping: seconds * 1000 + attoseconds / 1_000_000_000_000_000))
    }
}
