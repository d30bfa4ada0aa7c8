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

/// Counters kept out of line, and not at all while they are zero: tables of 50,000 real servers are
/// read and compared where no counter matters (apply), and inline counters tripled their size.
struct StatsBox: Hashable, Sendable {
    private final class Storage: Sendable {
        let stats: Stats
        init(_ stats: Stats) { self.stats = stats }
    }

    private var storage: Storage?

    init(_ stats: Stats) { storage = stats == .zero ? nil : Storage(stats) }

    var stats: Stats { storage?.stats ?? .zero }

    static func == (a: StatsBox, b: StatsBox) -> Bool { a.stats == b.stats }
    func hash(into hasher: inout Hasher) { hasher.combine(stats) }
}

/// A real server with the kernel's runtime view of it.
public struct RealServerStatus: Hashable, Sendable {
    public var server: RealServer
    public var activeConnections: UInt32 = 0
    public var inactiveConnections: UInt32 = 0
    public var persistentConnections: UInt32 = 0
    private var counters = StatsBox(.zero)
    public var stats: Stats {
        get { counters.stats }
        set { counters = StatsBox(newValue) }
    }

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
    private var counters = StatsBox(.zero)
    public var stats: Stats {
        get { counters.stats }
        set { counters = StatsBox(newValue) }
    }
    public var realServers: [RealServerStatus] = []

    public init(service: VirtualService, stats: Stats = Stats(), realServers: [RealServerStatus] = []) {
        self.service = service
        self.stats = stats
        self.realServers = realServers
    }
}
