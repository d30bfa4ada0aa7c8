import Firewall
import IPVS
import LVSModel

/// Everything lvsh manages in one namespace, as a file describes it or as the kernel holds it.
public struct ManagedState: Sendable {
    /// Services in the order the file names them (sorted when read from the kernel).
    public var services: [ServiceStatus] = []
    public var groups: [PortGroup] = []
    /// nil when the file says nothing about timeouts: they are then left as they are.
    public var timeouts: Timeouts?
    public var daemons: [SyncDaemon] = []
    /// Full sysctl names to values.
    public var sysctls: [String: String] = [:]
    /// What only a daemon acts on: checks, maintenance, metrics (never read from the kernel).
    public var health = HealthConfig()

    public init() {}

    public func service(_ key: ServiceKey) -> ServiceStatus? { services.first { $0.service.key == key } }
}

/// What a desired state dropped since the last one, to delete although it is not pruning: the
/// daemon's desired state after `no service ...` through it.
public struct Leaving: Sendable, Hashable {
    public var services: Set<ServiceKey> = []
    public var groups: Set<String> = []

    public init() {}

    /// What `old` has and `new` does not.
    public init(from old: ManagedState, to new: ManagedState) {
        services = Set(old.services.map(\.service.key)).subtracting(new.services.map(\.service.key))
        groups = Set(old.groups.map(\.name)).subtracting(new.groups.map(\.name))
    }

    public var isEmpty: Bool { services.isEmpty && groups.isEmpty }
}

/// IPVS's part of the state: the table, the sync daemons and the timeouts, read in one place.
public struct IPVSState: Sendable {
    public var table = IPVSTable()
    public var daemons: [SyncDaemon] = []
    public var timeouts = Timeouts.kernelDefault

    public init() {}

    /// Reads everything (thresholds, counters and tunnel options included).
    public init(reading ipvs: any IPVSControl) throws(LVSError) {
        table = try ipvs.table(.complete)
        daemons = try ipvs.daemons()
        timeouts = try ipvs.timeouts()
    }
}
