import LVSModel
import Shell

/// A service as completion sees it: its key and its real servers.
public struct LiveService: Sendable, Hashable {
    public var key: ServiceKey
    public var realServers: [RealServerKey]

    public init(key: ServiceKey, realServers: [RealServerKey]) {
        self.key = key
        self.realServers = realServers
    }
}

/// Where TAB finds the values the kernel holds. Closures, read on every TAB press so completion
/// follows the kernel as commands change it; tests pass fixed lists.
public struct LiveValues {
    /// Port groups: name and mark.
    public var groups: () -> [(name: String, mark: UInt32)]
    public var services: () -> [LiveService]
    /// Scheduler names the kernel has or can load.
    public var schedulers: () -> [String]
    public var interfaces: () -> [String]
    /// Sysctl names lvsh knows (full and short).
    public var sysctls: () -> [String]
    /// Check names the running daemon knows (none without a daemon).
    public var checks: () -> [String] = { [] }

    public init(groups: @escaping () -> [(name: String, mark: UInt32)] = { [] },
                services: @escaping () -> [LiveService] = { [] },
                schedulers: @escaping () -> [String] = { [] },
                interfaces: @escaping () -> [String] = { [] },
                sysctls: @escaping () -> [String] = { [] }) {
        self.groups = groups
        self.services = services
        self.schedulers = schedulers
        self.interfaces = interfaces
        self.sysctls = sysctls
    }

    /// The candidates for a value of `kind` that follows `words`; the words narrow real servers to
    /// the service they name and service addresses to the protocol before them.
    public func values(_ kind: ValueKind, after words: [String]) -> [String] {
        switch kind {
        case .groupName:
            return groups().map(\.name)
        case .endpoint:
            let proto = words.last.flatMap(Self.protocolNamed)
            return services().compactMap { s -> String? in
                guard case .inet(let p, let a, let port) = s.key, proto == nil || p == proto else { return nil }
                return Self.text(a, port)
            }
        case .realServer:
            let all = services()
            // Words that name no service lvsh can tell (yet): every real server.
            let named = Self.service(namedBy: words, in: all, groups: groups()) ?? all
            return named.flatMap { $0.realServers.map { Self.text($0.address, $0.port) } }
        case .mark:
            return services().compactMap { s -> String? in
                if case .fwmark(let m, _) = s.key { return String(m) }
                return nil
            } + groups().map { String($0.mark) }
        case .scheduler:
            return schedulers()
        case .interface:
            return interfaces()
        case .checkName:
            return checks()
        case .sysctlName:
            return sysctls()
        default:
            return []
        }
    }

    /// ADDRESS:PORT, with IPv6 addresses in brackets as ipvsadm writes them.
    static func text(_ address: IPAddress, _ port: UInt16) -> String {
        address.endpoint(port)
    }

    /// tcp, udp or sctp, also abbreviated as the parser accepts it.
    static func protocolNamed(_ word: String) -> L4Protocol? {
        let names: [(String, L4Protocol)] = [("tcp", .tcp), ("udp", .udp), ("sctp", .sctp)]
        let matching = names.filter { $0.0.hasPrefix(word) && !word.isEmpty }
        return matching.count == 1 ? matching[0].1 : nil
    }

    /// The services the last words name (`tcp ADDR:PORT`, `fwmark N [ipv6]`, or a group); nil when
    /// they name none that way.
    static func service(namedBy words: [String], in services: [LiveService],
                        groups: [(name: String, mark: UInt32)]) -> [LiveService]? {
        guard let last = words.last else { return nil }
        if words.count >= 2, let proto = protocolNamed(words[words.count - 2]),
           let (address, port) = Endpoint.parse(last, portRequired: true), let port {
            return services.filter { $0.key == .inet(proto, address, port) }
        }
        var rest = words[...]
        let ipv6 = "ipv6".hasPrefix(last) && words.count >= 3
        if ipv6 { rest = rest.dropLast() }
        if rest.count >= 2, let fw = rest.dropLast().last, !fw.isEmpty, "fwmark".hasPrefix(fw), let mark = Mark.parse(rest.last!) {
            return services.filter { $0.key == .fwmark(mark, ipv6 ? .v6 : .v4) }
        }
        guard let group = groups.first(where: { $0.name == last }) else { return nil }
        return services.filter {
            if case .fwmark(let m, _) = $0.key { return m == group.mark }
            return false
        }
    }
}
