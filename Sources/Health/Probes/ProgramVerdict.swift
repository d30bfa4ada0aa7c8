/// What the exit of a script and the content of a file mean (keepalived's MISC_CHECK with
/// misc_dynamic, and FILE_CHECK with a track_file).
public enum ProgramVerdict {
    /// Exit status 0 is up, 1 down, 2–255 up with weight status − 2; a signal is down.
    public static func script(status: Int32, signal: Int32?) -> (ok: Bool, reason: String, adjustment: WeightAdjustment?) {
        if let signal { return (false, "killed by signal \(signal)", nil) }
        switch status {
        case 0: return (true, "exit 0", nil)
        case 1: return (false, "exit 1", nil)
        default: return (true, "exit \(status): weight \(status - 2)", .set(status - 2))
        }
    }

    /// keepalived's FILE_CHECK: the file holds an integer (read as strtol with base 0 reads it:
    /// decimal, 0x hex or 0 octal, a sign, spaces before; anything else, an empty or a missing file is 0).
    /// With weight 0, 0 is up and any other value down. Otherwise the value × weight is added to the
    /// real server's weight, and a product at or below −2³¹ is down (keepalived's fault state).
    /// keepalived ignores a value outside the 32-bit range; lvsh says the check failed.
    public static func file(content: [UInt8]?, weight: Int32) -> (ok: Bool, reason: String, adjustment: WeightAdjustment?) {
        guard let value = integer(content ?? []) else { return (false, "the file holds a number outside −2147483648...2147483648", nil) }
        let shown = content == nil ? "no file (0)" : "value \(value)"
        if weight == 0 { return value == 0 ? (true, shown, nil) : (false, shown, nil) }
        let product = value.multipliedReportingOverflow(by: Int64(weight))
        let status = product.overflow ? (value < 0) != (weight < 0) ? Int64.min : Int64.max : product.partialValue
        if status <= Int64(Int32.min) { return (false, "\(shown) × \(weight): fault", nil) }
        return (true, "\(shown) × \(weight)", .add(min(status, Int64(Int32.max))))
    }

    /// strtol(_, NULL, 0) within keepalived's accepted range, nil outside it.
    static func integer(_ bytes: [UInt8]) -> Int64? {
        var i = bytes.startIndex
        while i < bytes.endIndex, [0x20, 0x09, 0x0a, 0x0b, 0x0c, 0x0d].contains(bytes[i]) { i += 1 }
        var negative = false
        if i < bytes.endIndex, bytes[i] == UInt8(ascii: "-") || bytes[i] == UInt8(ascii: "+") {
            negative = bytes[i] == UInt8(ascii: "-")
            i += 1
        }
        var base: Int64 = 10
        if i < bytes.endIndex, bytes[i] == UInt8(ascii: "0") {
            if i + 2 < bytes.endIndex, bytes[i + 1] | 0x20 == UInt8(ascii: "x"), digit(bytes[i + 2], base: 16) != nil {
                base = 16
                i += 2
            } else {
                base = 8
            }
        }
        var value: Int64 = 0
        while i < bytes.endIndex, let d = digit(bytes[i], base: base) {
            value = value * base + d
            if value > Int64(Int32.max) + 1 { return nil }
            i += 1
        }
        return negative ? -value : value
    }

    static func digit(_ byte: UInt8, base: Int64) -> Int64? {
        let d: Int64
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): d = Int64(byte - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): d = Int64(byte - UInt8(ascii: "a") + 10)
        case UInt8(ascii: "A")...UInt8(ascii: "F"): d = Int64(byte - UInt8(ascii: "A") + 10)
        default: return nil
        }
        return d < base ? d : nil
    }
}
