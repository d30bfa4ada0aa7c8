import LVSModel
import Listings

/// Parsers for ipvsadm's option values, each accepting what ipvsadm accepts
/// and explaining what is wrong when it does not.
package enum IPVSAdmValueParsing {
    /// An address with the port if one was written (ipvsadm's SERVICE_ADDR|SERVICE_PORT).
    package struct Endpoint: Hashable, Sendable {
        var address: IPAddress
        var port: UInt16?
    }

    /// ipvsadm's `parse_service`: `host[:port]`, `[v6]:port`, or a bare IPv6 address.
    /// `option` names the option in messages; `proto` decides which port names apply.
    static func endpoint(_ text: String, option writtenOption: @autoclosure () -> String,
                         protocol proto: L4Protocol?) throws(LVSError) -> Endpoint {
        if let plain = plainIPv4Endpoint(text) { return plain }
        return try anyEndpoint(text, option: writtenOption(), protocol: proto)
    }

    /// `endpoint` for every form, and the explanation of what is wrong.
    package static func anyEndpoint(_ text: String, option: String, protocol proto: L4Protocol?) throws(LVSError) -> Endpoint {
        let example = option == "-r" ? "10.0.0.2:80" : "192.168.0.1:80"
        if CNumberParsing.isAllDigits(text) {
            throw .badInput(text.isEmpty ? "\(option) needs an address, e.g. \(example)"
                : "\(option) \(text): give an address with the port, e.g. \(example); a number alone is not an address")
        }
        var host = Substring(text)
        var portText: Substring?
        if host.first == "[" {
            host = host.dropFirst()
            guard let close = host.firstIndex(of: "]") else {
                throw .badInput("\(option) \(text): missing ']' after the IPv6 address; write [ADDRESS]:PORT, e.g. [2001:db8::1]:80")
            }
            let after = host[close...].dropFirst()
            guard after.first == ":" else {
                throw .badInput("\(option) \(text): a bracketed IPv6 address must be followed by :PORT, e.g. [\(host[..<close])]:80")
            }
            portText = after.dropFirst()
            host = host[..<close]
        }
        let address: IPAddress
        if let v6 = CNumberParsing.inetPton6(String(host)) {
            address = v6
        } else {
            // Like ipvsadm, the port follows the last ':'; inside brackets an IPv4 address loses it.
            if let colon = host.lastIndex(of: ":") {
                portText = host[host.index(after: colon)...]
                host = host[..<colon]
            } else {
                portText = nil
            }
            guard let v4 = CNumberParsing.inetAton(String(host)) else {
                throw .badInput("\(option) \(text): '\(host)' is not a numeric IPv4 or IPv6 address; "
                    + "lvsh does not resolve host names, so give the address itself, e.g. \(example) or [2001:db8::1]:80")
            }
            address = IPAddress(v4: v4)
        }
        guard let portText else { return Endpoint(address: address, port: nil) }
        if let n = CNumberParsing.number(String(portText), in: 0...65535) {
            return Endpoint(address: address, port: UInt16(n))
        }
        if let proto, let named = ServiceNames.port(named: String(portText), protocol: proto) {
            return Endpoint(address: address, port: named)
        }
        let kind = proto.map { "a known \($0) service name" } ?? "a service name (names need the service's protocol: give -t/-u first)"
        throw .badInput("\(option) \(text): the port '\(portText)' is neither a number from 0 to 65535 nor \(kind)")
    }

    /// The usual form read straight from its bytes: a numeric IPv4 address with an optional
    /// numeric port ("10.0.0.2:80"), as `endpoint` reads it. nil for anything else (brackets,
    /// IPv6, port names, mistakes), which `endpoint` then reads the general way, explaining
    /// what is wrong; a test checks that both ways agree wherever this one answers.
    package static func plainIPv4Endpoint(_ text: String) -> Endpoint? {
        CNumberParsing.withBytes(text) { b -> Endpoint? in
            // All digits is an error (no address); IPv6 needs two colons, so with at most one
            // the general path's IPv6 attempt fails and the port follows the colon.
            guard !CNumberParsing.isAllDigits(b) else { return nil }
            var colon: Int?
            for i in b.indices {
                let c = b[i]
                if c >= 0x80 || c == UInt8(ascii: "[") { return nil }
                if c == UInt8(ascii: ":") {
                    if colon != nil { return nil }
                    colon = i
                }
            }
            guard let colon else {
                return CNumberParsing.inetAton(b).map { Endpoint(address: IPAddress(v4: $0), port: nil) }
            }
            guard let v4 = CNumberParsing.inetAton(CNumberParsing.Bytes(rebasing: b[..<colon])),
                  let port = CNumberParsing.number(CNumberParsing.Bytes(rebasing: b[(colon + 1)...]), in: 0...65535)
            else { return nil }
            return Endpoint(address: IPAddress(v4: v4), port: UInt16(port))
        }
    }

    /// ipvsadm's `parse_timeout`: a whole number of seconds; a bare `-p` means 360 s
    /// (libipvs's IPVS_SVC_PERSISTENT_TIMEOUT, although the manual says 300).
    static func timeout(_ text: String?, in range: ClosedRange<Int64>, option: @autoclosure () -> String) throws(LVSError) -> UInt32 {
        guard let text else { return 360 }
        guard let n = CNumberParsing.number(text, in: range) else {
            throw .badInput("\(option()) \(text): the timeout must be a whole number of seconds from \(range.lowerBound) to \(range.upperBound) (31 days)")
        }
        return UInt32(n)
    }

    /// ipvsadm's `parse_fwmark`: 1 to 4294967295.
    static func firewallMark(_ text: String) throws(LVSError) -> UInt32 {
        guard let n = CNumberParsing.number(text, in: 1...Int64(UInt32.max)) else {
            throw .badInput("-f \(text): the firewall mark must be a whole number from 1 to 4294967295 (decimal)")
        }
        return UInt32(n)
    }

    /// A bounded whole number, with ipvsadm's meaning of "bounded".
    static func integer(_ text: String, in range: ClosedRange<Int64>, option: @autoclosure () -> String, what: String) throws(LVSError) -> Int64 {
        guard let n = CNumberParsing.number(text, in: range) else {
            throw .badInput("\(option()) \(text): \(what) must be a whole number from \(range.lowerBound) to \(range.upperBound)")
        }
        return n
    }

    /// An IPv4 persistence netmask (inet_aton forms), in host byte order.
    static func netmask(_ text: String) throws(LVSError) -> UInt32 {
        guard let mask = CNumberParsing.inetAton(text) else {
            throw .badInput("-M \(text): not an IPv4 netmask; write it as an address, e.g. 255.255.255.0 "
                + "(for an IPv6 service, give -t/-u/-f -6 before -M and a prefix length)")
        }
        return mask
    }

    /// An IPv6 persistence prefix length: ipvsadm reads it with atoi, so "64abc" is 64.
    static func prefixLength(_ text: String) throws(LVSError) -> UInt32 {
        let n = CNumberParsing.atoi(text)
        guard (1...128).contains(n) else {
            throw .badInput("-M \(text): for an IPv6 service the netmask is a prefix length from 1 to 128")
        }
        return UInt32(n)
    }

    /// ipvsadm's `parse_sched_flags`: comma-separated names, some only for sh or mh.
    static func schedulerFlags(_ text: String, scheduler: String) throws(LVSError) -> ServiceFlags {
        let sched = scheduler.isEmpty ? Schedulers.default : scheduler
        let names = text.split(separator: ",")
        guard !names.isEmpty else {
            throw .badInput("-b \(text): give at least one scheduler flag: flag-1, flag-2, flag-3, sh-fallback, sh-port, mh-fallback or mh-port")
        }
        var flags: ServiceFlags = []
        for name in names {
            switch name {
            case "flag-1": flags.insert(.schedulerFlag1)
            case "flag-2": flags.insert(.schedulerFlag2)
            case "flag-3": flags.insert(.schedulerFlag3)
            case "sh-fallback", "sh-port", "mh-fallback", "mh-port":
                let owner = String(name.prefix(2))
                guard sched == owner else {
                    throw .badInput("-b \(text): the flag '\(name)' belongs to the \(owner) scheduler, but the scheduler is \(sched)"
                        + (scheduler.isEmpty ? " (the default; give -s \(owner))" : "; use -s \(owner)"))
                }
                flags.insert(name.hasSuffix("fallback") ? .schedulerFlag1 : .schedulerFlag2)
            default:
                throw .badInput("-b \(text): unknown scheduler flag '\(name)'; the flags are flag-1, flag-2, flag-3, "
                    + "sh-fallback and sh-port (for -s sh), mh-fallback and mh-port (for -s mh)")
            }
        }
        return flags
    }

    /// --mcast-group: a multicast address of either family (inet_pton forms only).
    static func multicastGroup(_ text: String) throws(LVSError) -> IPAddress {
        if text.contains(":") {
            guard let a = CNumberParsing.inetPton6(text), a.high >> 56 == 0xff else {
                throw .badInput("--mcast-group \(text): not an IPv6 multicast address (ff00::/8), e.g. ff02::81")
            }
            return a
        }
        guard let a = IPAddress(text), a.family == .v4, a.v4Value >> 28 == 0xe else {
            throw .badInput("--mcast-group \(text): not an IPv4 multicast address (224.0.0.0 to 239.255.255.255), e.g. 224.0.0.81")
        }
        return a
    }

    /// ipvsadm copies names into fixed C buffers; longer names are cut, as the kernel would see them.
    static func truncated(_ text: String, to length: Int) -> String {
        // Nothing to cut (the usual case): the text itself.
        if text.utf8.count <= length && !text.utf8.contains(0) { return text }
        var bytes = Array(text.utf8.prefix(length))
        if let nul = bytes.firstIndex(of: 0) { bytes = Array(bytes[..<nul]) }
        return String(decoding: bytes, as: UTF8.self)
    }
}
