/// IPVS counters and rate estimates for a service or real server (64-bit, as IPVS_*_ATTR_STATS64 gives them).
public struct Stats: Hashable, Sendable, Codable {
    public var connections: UInt64 = 0
    public var packetsIn: UInt64 = 0
    public var packetsOut: UInt64 = 0
    public var bytesIn: UInt64 = 0
    public var bytesOut: UInt64 = 0
    public var connectionsPerSecond: UInt64 = 0
    public var packetsInPerSecond: UInt64 = 0
    public var packetsOutPerSecond: UInt64 = 0
    public var bytesInPerSecond: UInt64 = 0
    public var bytesOutPerSecond: UInt64 = 0

    public init() {}
    public static let zero = Stats()
}

/// A real server with the kernel's runtime view of it.
public struct RealServerStatus: Hashable, Sendable {
    public var server: RealServer
    public var activeConnections: UInt32 = 0
    public var inactiveConnections: UInt32 = 0
    public var persistentConnections: UInt32 = 0
    public var stats = Stats()

    public init(server: RealServer, activeConnections: UInt32 = 0, inactiveConnections: UInt32 = 0,
                persistentConnections: UInt32 = 0, stats: Stats = Stats()) {
        self.server = server
        self.activeConnections = activeConnections
        self.inactiveConnections = inactiveConnections
        self.persistentConnections = persistentConnections
        self.stats = stats
    }
}

/// A virtual service with its real servers and counters, as read from the kernel.
public struct ServiceStatus: Hashable, Sendable {
    public var service: VirtualService
    public var stats = Stats()
    public var realServers: [RealServerStatus] = []

    public init(service: VirtualService, stats: Stats = Stats(), realServers: [RealServerStatus] = []) {
        self.service = service
        self.stats = stats
        self.realServers = realServers
    }
}
