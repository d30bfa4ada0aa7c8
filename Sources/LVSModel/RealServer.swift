/// How IPVS forwards packets to a real server (IP_VS_CONN_F_* forwarding values).
public enum ForwardingMethod: UInt32, Hashable, Sendable, Codable, CaseIterable {
    case masquerade = 0
    case local = 1
    case tunnel = 2
    case route = 3
    case bypass = 4

    /// The word ipvsadm prints in listings.
    public var listingName: String {
        switch self {
        case .masquerade: "Masq"
        case .local: "Local"
        case .tunnel: "Tunnel"
        case .route: "Route"
        case .bypass: "Bypass"
        }
    }

    /// Port mapping is only possible when IPVS rewrites the packet (NAT).
    public var allowsPortMapping: Bool { self == .masquerade }
}

/// Encapsulation used by the tunnel forwarding method.
public enum TunnelType: UInt8, Hashable, Sendable, Codable, CaseIterable {
    case ipip = 0
    case gue = 1
    case gre = 2

    public var name: String {
        switch self {
        case .ipip: "ipip"
        case .gue: "gue"
        case .gre: "gre"
        }
    }

    public init?(name: String) {
        guard let t = TunnelType.allCases.first(where: { $0.name == name.lowercased() }) else { return nil }
        self = t
    }
}

/// Tunnel checksum options (IP_VS_TUNNEL_ENCAP_FLAG_*): none set means nocsum.
public struct TunnelFlags: OptionSet, Hashable, Sendable, Codable {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }
    public static let checksum = TunnelFlags(rawValue: 1 << 0)
    public static let remoteChecksum = TunnelFlags(rawValue: 1 << 1)
}

/// A real server (IPVS destination) as configured: what `ipvsadm -a/-e` sets.
public struct RealServer: Hashable, Sendable {
    public var address: IPAddress
    public var port: UInt16
    public var forwarding: ForwardingMethod
    public var weight: Int32
    /// Upper and lower connection thresholds; 0 means none.
    public var upperThreshold: UInt32
    public var lowerThreshold: UInt32
    public var tunnelType: TunnelType
    public var tunnelPort: UInt16
    public var tunnelFlags: TunnelFlags

    public init(address: IPAddress, port: UInt16, forwarding: ForwardingMethod = .route, weight: Int32 = 1,
                upperThreshold: UInt32 = 0, lowerThreshold: UInt32 = 0,
                tunnelType: TunnelType = .ipip, tunnelPort: UInt16 = 0, tunnelFlags: TunnelFlags = []) {
        self.address = address
        self.port = port
        self.forwarding = forwarding
        self.weight = weight
        self.upperThreshold = upperThreshold
        self.lowerThreshold = lowerThreshold
        self.tunnelType = tunnelType
        self.tunnelPort = tunnelPort
        self.tunnelFlags = tunnelFlags
    }

    /// What identifies a destination within its service: address and port, nothing else.
    public var identity: RealServerKey { RealServerKey(address: address, port: port) }
}

/// The identity of a real server inside one service.
public struct RealServerKey: Hashable, Sendable, Comparable {
    public var address: IPAddress
    public var port: UInt16
    public init(address: IPAddress, port: UInt16) {
        self.address = address
        self.port = port
    }
    public static func < (a: RealServerKey, b: RealServerKey) -> Bool { (a.address, a.port) < (b.address, b.port) }
}
