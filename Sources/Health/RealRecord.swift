import LVSModel

/// What the monitor keeps for one real server of one service. Its checks' states sit in the
/// monitor's `checks`, at the same places as their bindings in the plan's `all`: one array of
/// each for all real servers, where an array per real server cost an allocation each.
struct RealRecord: Hashable, Sendable {
    /// The weight the operator wrote.
    var weight: Int32
    /// Where its checks start in the plan's `all` and the monitor's `checks`, and how many it has.
    var first: UInt32
    var count: UInt16
    var state: HealthState
    var since: HealthTime
    /// The weight the kernel keeps while the real server is unknown: the kernel's weight of an
    /// adopted real server, or the weight it had when a new check joined it.
    var held: Int32?

    /// Its checks' places in the plan's `all` and the monitor's `checks`.
    var range: Range<Int> { Int(first)..<Int(first) + Int(count) }

    /// up, down or unknown from the checks alone: all up is up, any down is down.
    static func checkedState(_ checks: ArraySlice<CheckState>) -> HealthState {
        var unknown = false
        for c in checks {
            if c.state == .down { return .down }
            if c.state == .unknown { unknown = true }
        }
        return unknown ? .unknown : .up
    }

    /// The weight the real server's checks earn it, dynamic weights included.
    func upWeight(_ checks: ArraySlice<CheckState>) -> Int32 {
        WeightAdjustment.weight(desired: weight, adjustments: checks.lazy.filter { $0.state == .up }.compactMap(\.adjustment))
    }

    /// Its weight in the kernel, nil when it is out of the service (down with on-failure remove).
    func effectiveWeight(onFailure: FailureAction, _ checks: ArraySlice<CheckState>) -> Int32? {
        switch state {
        case .disabled: 0
        case .up: upWeight(checks)
        case .unknown: held ?? upWeight(checks)
        case .down: onFailure == .remove ? nil : 0
        }
    }

    /// Its part of the service's quorum: the weight of a live (up or unknown) real server.
    func liveWeight(_ checks: ArraySlice<CheckState>) -> Int64 {
        switch state {
        case .up: Int64(upWeight(checks))
        case .unknown: Int64(held ?? upWeight(checks))
        case .down, .disabled: 0
        }
    }

    /// The weight to hold while a new check has not answered: what the kernel has now.
    func upWeightOrHeld(_ checks: ArraySlice<CheckState>) -> Int32 {
        Self.checkedState(checks) == .unknown ? held ?? upWeight(checks) : upWeight(checks)
    }
}
