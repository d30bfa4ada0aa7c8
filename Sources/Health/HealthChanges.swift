import LVSModel

/// A check of one real server changed state: for logs and the failure counters.
public struct CheckTransition: Hashable, Sendable {
    public var ref: RealReference
    public var check: String
    public var from: HealthState
    public var to: HealthState
    public var reason: String
    public var at: HealthTime
}

/// A real server changed state: for logs, `show health` and `lvsh_real_up`.
public struct RealTransition: Hashable, Sendable {
    public var ref: RealReference
    /// nil for a real server that the configuration just brought.
    public var from: HealthState?
    public var to: HealthState
    public var reason: String
    public var at: HealthTime
}

/// A service lost or regained its quorum; with a sorry server, that server came in or went out.
public struct QuorumTransition: Hashable, Sendable {
    public var service: ServiceKey
    public var lost: Bool
    /// The sum of the live real servers' weights that decided it, and the threshold it crossed.
    public var weightSum: Int64
    public var threshold: Int64
    public var sorryServer: RealServerKey?
    public var at: HealthTime
}

/// What one result or one reconfiguration changed.
public struct HealthChanges: Hashable, Sendable {
    public var checks: [CheckTransition] = []
    public var reals: [RealTransition] = []
    public var quorum: [QuorumTransition] = []
    /// Services whose effective real servers differ from before: the ones the daemon must re-plan.
    public var services: Set<ServiceKey> = []

    public init() {}

    public var isEmpty: Bool { checks.isEmpty && reals.isEmpty && quorum.isEmpty && services.isEmpty }
}
