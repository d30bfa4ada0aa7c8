/// IPVS connection timeouts in seconds (`ipvsadm --set tcp tcpfin udp`); 0 in a request leaves one unchanged.
public struct Timeouts: Hashable, Sendable, Codable {
    public var tcp: UInt32
    public var tcpFin: UInt32
    public var udp: UInt32
    public init(tcp: UInt32, tcpFin: UInt32, udp: UInt32) {
        self.tcp = tcp
        self.tcpFin = tcpFin
        self.udp = udp
    }
    /// The kernel's defaults.
    public static let kernelDefault = Timeouts(tcp: 900, tcpFin: 120, udp: 300)
}

/// A connection-synchronisation daemon's role.
public enum SyncRole: UInt32, Hashable, Sendable, Codable, CaseIterable {
    case master = 1
    case backup = 2
    public var name: String { self == .master ? "master" : "backup" }
}

/// A connection-synchronisation daemon (`ipvsadm --start-daemon`).
public struct SyncDaemon: Hashable, Sendable {
    public var role: SyncRole
    public var interface: String
    public var syncID: UInt8
    /// UDP payload size; 0 lets the kernel choose from the interface MTU.
    public var maxLength: UInt16
    public var group: IPAddress?
    public var port: UInt16
    public var ttl: UInt8

    public init(role: SyncRole, interface: String, syncID: UInt8 = 0, maxLength: UInt16 = 0,
                group: IPAddress? = nil, port: UInt16 = 0, ttl: UInt8 = 0) {
        self.role = role
        self.interface = interface
        self.syncID = syncID
        self.maxLength = maxLength
        self.group = group
        self.port = port
        self.ttl = ttl
    }
}

/// What IPVS says of itself (IPVS_CMD_GET_INFO).
public struct IPVSInfo: Hashable, Sendable {
    public var version: UInt32
    public var connectionTableSize: UInt32
    public init(version: UInt32, connectionTableSize: UInt32) {
        self.version = version
        self.connectionTableSize = connectionTableSize
    }
    /// "1.2.1", as ipvsadm prints it.
    public var versionString: String { "\(version >> 16 & 0xff).\(version >> 8 & 0xff).\(version & 0xff)" }
}

/// The whole IPVS state of one network namespace.
public struct IPVSTable: Hashable, Sendable {
    public var services: [ServiceStatus]
    public init(services: [ServiceStatus] = []) { self.services = services }

    public subscript(key: ServiceKey) -> ServiceStatus? { services.first { $0.service.key == key } }
}
