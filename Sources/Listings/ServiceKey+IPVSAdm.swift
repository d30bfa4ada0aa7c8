import LVSModel

extension ServiceKey {
    /// The service as an ipvsadm argument: "-t 192.168.0.1:80", "-f 1000 -6".
    public var ipvsadmArgument: String {
        switch self {
        case .inet(let p, let a, let port):
            let option = p == .tcp ? "-t" : p == .udp ? "-u" : "--sctp-service"
            return "\(option) \(IPVSAdmFormat.endpoint(a, port))"
        case .fwmark(let m, let f):
            return f == .v6 ? "-f \(m) -6" : "-f \(m)"
        }
    }

    /// The service as ipvsadm's listing names it: "TCP 192.168.0.1:80", "FWM 1000 IPv6".
    public var ipvsadmName: String {
        switch self {
        case .inet(let p, let a, let port): "\(p.description.uppercased()) \(IPVSAdmFormat.endpoint(a, port))"
        case .fwmark(let m, let f): f == .v6 ? "FWM \(m) IPv6" : "FWM \(m)"
        }
    }
}

extension ServiceKey {
    /// The service's address; the unspecified address for fwmark services.
    package var address: IPAddress {
        switch self {
        case .inet(_, let a, _): a
        case .fwmark(_, let f): .zero(f)
        }
    }
}
