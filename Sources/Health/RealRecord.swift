import LVSModel

/// What the monitor keeps for one real server of one service.
struct RealRecord: Hashable, Sendable {
    /// The real server as configured, with the weight the operator wrote.
    var desired: RealServer
    /// Its checks by name (the plan's bindings give their order).
    var checks: [String: CheckState]
    var state: HealthState
    var since: HealthTime
    /// The weight the kernel keeps while the real server is unknown: the kernel's weight of an
    /// adopted real server, or the weight it had when a new check joined it.
    var held: Int32?

    /// up, down or unknown from the checks alone: all up is up, any down is down.
    var checkedState: HealthState {
        var unknown = false
        for c in checks.values {
            if c.state == .down { return .down }
            if c.state == .unknown { unknown = true }
        }
        return unknown ? .unknown : .up
    }

    func state(disabled: Bool) -> HealthState { disabled ? .disabled : checkedState }

    /// The weight the real server's checks earn it, dynamic weights included.
    var upWeight: Int32 {
        WeightAdjustment.weight(desired: desired.weight, adjustments: checks.values.lazy.filter { $0.state == .up }.compactMap(\.adjustment))
    }

    /// Its weight in the kernel, nil when it is out of the service (down with on-failure remove).
    func effectiveWeight(onFailure: FailureAction) -> Int32? {
        switch state {
        case .disabled: 0
        case .up: upWeight
        case .unknown: held ?? upWeight
        case .down: onFailure == .remove ? nil : 0
        }
    }

    /// Its part of the service's quorum: the weight of a live (up or unknown) real server.
    var liveWeight: Int64 {
        switch state {
        case .up: Int64(upWeight)
        case .unknown: Int64(held ?? upWeight)
        case .down, .disabled: 0
        }
    }

    var isLive: Bool { state == .up || state == .unknown }
}
