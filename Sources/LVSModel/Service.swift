/// A transport protocol IPVS balances, with its IP protocol number.
public enum L4Protocol: UInt16, Hashable, Sendable, Codable, CaseIterable, CustomStringConvertible {
    case tcp = 6
    case udp = 17
    case sctp = 132

    public var description: String {
        switch self {
        case .tcp: "tcp"
        case .udp: "udp"
        case .sctp: "sctp"
        }
    }

    public init?(name: String) {
        // Lowered once (not once per case): every service and real server line of a file names one.
        let lowered = name.lowercased()
        guard let p = L4Protocol.allCases.first(where: { $0.description == lowered }) else { return nil }
        self = p
    }
}

/// What identifies a virtual service in the kernel: protocol + address + port, or a firewall mark and family.
public enum ServiceKey: Hashable, Sendable, Comparable {
    case inet(L4Protocol, IPAddress, UInt16)
    case fwmark(UInt32, IPAddress.Family)

    public var family: IPAddress.Family {
        switch self {
        case .inet(_, let a, _): a.family
        case .fwmark(_, let f): f
        }
    }

    public var isFirewallMark: Bool {
        if case .fwmark = self { return true }
        return false
    }

    /// The service's port, 0 for fwmark services.
    public var port: UInt16 {
        if case .inet(_, _, let p) = self { return p }
        return 0
    }

    /// The service's protocol; fwmark services have none.
    public var l4Protocol: L4Protocol? {
        if case .inet(let p, _, _) = self { return p }
        return nil
    }

    /// Sorts as ipvsadm's listing sorts: by protocol, then address and port, fwmark services after.
    public static func < (a: ServiceKey, b: ServiceKey) -> Bool {
        switch (a, b) {
        case let (.inet(pa, aa, xa), .inet(pb, ab, xb)):
            return (pa.rawValue, aa, xa) < (pb.rawValue, ab, xb)
        case (.inet, .fwmark): return true
        case (.fwmark, .inet): return false
        case let (.fwmark(ma, fa), .fwmark(mb, fb)):
            return (ma, fa.rawValue) < (mb, fb.rawValue)
        }
    }
}

/// IPVS virtual-service flags (linux/ip_vs.h IP_VS_SVC_F_*).
public struct ServiceFlags: OptionSet, Hashable, Sendable, Codable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    public static let persistent = ServiceFlags(rawValue: 0x0001)
    /// Set by the kernel on every service in its hash table; never written by user space.
    public static let hashed = ServiceFlags(rawValue: 0x0002)
    public static let onePacket = ServiceFlags(rawValue: 0x0004)
    public static let schedulerFlag1 = ServiceFlags(rawValue: 0x0008)
    public static let schedulerFlag2 = ServiceFlags(rawValue: 0x0010)
    public static let schedulerFlag3 = ServiceFlags(rawValue: 0x0020)

    /// The flags user space sets; what the kernel adds (hashed) is masked away.
    public static let userSettable: ServiceFlags = [.persistent, .onePacket, .schedulerFlag1, .schedulerFlag2, .schedulerFlag3]
}

/// The schedulers mainline IPVS ships, in the kernel's names.
public enum Schedulers {
    public static let known = ["rr", "wrr", "lc", "wlc", "lblc", "lblcr", "dh", "sh", "sed", "nq", "fo", "ovf", "mh", "twos"]
    /// ipvsadm's default.
    public static let `default` = "wlc"

    /// The scheduler-specific meaning of the scheduler flags, as ipvsadm names them (-b).
    public static func flagNames(for scheduler: String) -> [(name: String, flag: ServiceFlags)] {
        switch scheduler {
        case "sh": [("sh-fallback", .schedulerFlag1), ("sh-port", .schedulerFlag2)]
        case "mh": [("mh-fallback", .schedulerFlag1), ("mh-port", .schedulerFlag2)]
        default: []
        }
    }
}

/// A virtual service's configuration: what `ipvsadm -A/-E` sets.
public struct VirtualService: Hashable, Sendable {
    public var key: ServiceKey
    public var scheduler: String
    public var flags: ServiceFlags
    /// Persistence timeout in seconds; meaningful with `.persistent`.
    public var timeout: UInt32
    /// IPv4: the persistence netmask in host byte order; IPv6: the prefix length.
    public var netmask: UInt32
    /// Persistence engine name, e.g. "sip".
    public var persistenceEngine: String?

    public init(key: ServiceKey, scheduler: String = Schedulers.default, flags: ServiceFlags = [],
                timeout: UInt32 = 0, netmask: UInt32? = nil, persistenceEngine: String? = nil) {
        self.key = key
        self.scheduler = scheduler
        self.flags = flags
        self.timeout = timeout
        self.netmask = netmask ?? (key.family == .v4 ? 0xffff_ffff : 128)
        self.persistenceEngine = persistenceEngine
    }

    public var isPersistent: Bool { flags.contains(.persistent) }
}
