import LVSModel
import Engine

/// How commands name a virtual service: `tcp ADDRESS:PORT`, `fwmark MARK [ipv6]`, or a group's name.
enum ServiceReference {
    static let syntax: Syntax = .choice([
        .sequence([
            .oneOf("proto", [("tcp", "a TCP service"), ("udp", "a UDP service"), ("sctp", "an SCTP service")]),
            .value("vip", .endpoint, help: "the virtual address and port"),
        ]),
        .sequence([
            .word("fwmark", help: "a firewall-mark service"),
            .value("fwmark", .mark, help: "the mark, decimal or 0x-hex"),
            .optional(.word("ipv6", help: "the IPv6 service of that mark (IPv4 without it)")),
        ]),
        .value("group", .groupName, help: "a port group: the fwmark service(s) of its mark"),
    ])

    /// The kernel services the words name. A group names one service per address family it uses;
    /// `family` narrows that to one (a real server's family picks its service).
    static func keys(_ b: Bindings, in candidate: Candidate, family: IPAddress.Family? = nil) throws(LVSError) -> [ServiceKey] {
        if let proto = b.first("proto").flatMap(L4Protocol.init(name:)), let (address, port) = b.endpoint("vip"), let port {
            return [.inet(proto, address, port)]
        }
        if let mark = b.mark("fwmark") {
            return [.fwmark(mark, b.has("ipv6") ? .v6 : .v4)]
        }
        guard let name = b.first("group") else { throw .badInput("no service given") }
        guard let group = candidate.groups[name] else {
            throw .badInput("there is no group \(name); create it with `group \(name) vip ADDRESS PROTO PORTS`, or name a service as tcp ADDRESS:PORT or fwmark MARK")
        }
        var families = group.families
        if families.isEmpty { families = [.v4] }
        if let family {
            guard families.contains(family) else {
                throw .badInput("group \(name) has no \(family) entries, so it has no \(family) service; add \(family) addresses to the group first")
            }
            families = [family]
        }
        return families.sorted { $0.rawValue < $1.rawValue }.map { .fwmark(group.mark, $0) }
    }

    /// How messages name a service: "tcp 192.168.61.129:80", "fwmark 1000 (group web)".
    static func describe(_ key: ServiceKey, in candidate: Candidate) -> String {
        switch key {
        case .inet(let p, let a, let port):
            return "\(p) \(a.family == .v6 ? "[\(a)]" : "\(a)"):\(port)"
        case .fwmark(let m, let f):
            let group = candidate.group(forMark: m).map { " (group \($0.name))" } ?? ""
            return "fwmark \(m)\(f == .v6 ? " ipv6" : "")\(group)"
        }
    }
}
