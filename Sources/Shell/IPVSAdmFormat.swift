import LVSModel

/// printf-style pieces of ipvsadm's output: padding, addresses, scaled numbers.
enum IPVSAdmFormat {
    /// "192.168.0.1:80" or "[2001:db8::1]:80", as ipvsadm prints with -n.
    static func endpoint(_ address: IPAddress, _ port: UInt16) -> String {
        address.family == .v4 ? "\(address):\(port)" : "[\(address)]:\(port)"
    }

    /// `%-Ns`: pad on the right to N bytes, never cut.
    static func left(_ text: String, _ width: Int) -> String {
        let n = text.utf8.count
        return n >= width ? text : text + String(repeating: " ", count: width - n)
    }

    /// `%Ns`: pad on the left to N bytes, never cut.
    static func right(_ text: String, _ width: Int) -> String {
        let n = text.utf8.count
        return n >= width ? text : String(repeating: " ", count: width - n) + text
    }

    /// Cut to at most N bytes, as ipvsadm does by writing a NUL into its buffer.
    static func cut(_ text: String, _ length: Int) -> String {
        text.utf8.count <= length ? text : String(decoding: Array(text.utf8.prefix(length)), as: UTF8.self)
    }

    /// ipvsadm's `print_largenum`: 9 columns, scaled to K, M, G or T unless --exact.
    static func largeNumber(_ n: UInt64, exact: Bool) -> String {
        if exact {
            let digits = String(n)
            return right(digits, digits.count <= 8 ? 9 : digits.count + 1)
        }
        if n < 100_000_000 { return right(String(n), 9) }
        if n < 1_000_000_000 { return right(String(n / 1000), 8) + "K" }
        if n < 100_000_000_000 { return right(String(n / 1_000_000), 8) + "M" }
        if n < 100_000_000_000_000 { return right(String(n / 1_000_000_000), 8) + "G" }
        return right(String(n / 1_000_000_000_000), 8) + "T"
    }

    /// `inet_ntoa` of a mask held in host byte order.
    static func dottedQuad(_ mask: UInt32) -> String {
        "\(mask >> 24).\(mask >> 16 & 0xff).\(mask >> 8 & 0xff).\(mask & 0xff)"
    }
}
