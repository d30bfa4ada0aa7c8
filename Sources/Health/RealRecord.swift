import LVSModel

/// What the monitor keeps for one real server of one service.
struct RealRecord: Hashable, Sendable {
    /// The real server as configured, with the weight the operator wrote.
    var desired: RealServer
    /// Its checks by name (the plan's bindings give their order).
    var checks: CheckStates
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

/// A real server's checks by name: most have one, a few two or three, so a small array searched by
/// name takes a fraction of a dictionary's memory (kept for each of 10,000 real servers).
struct CheckStates: Hashable, Sendable, ExpressibleByDictionaryLiteral {
    struct Entry: Hashable, Sendable {
        var name: String
        var state: CheckState
    }
    private var entries: [Entry] = []

    init(dictionaryLiteral elements: (String, CheckState)...) {
        for (name, state) in elements { self[name] = state }
    }

    subscript(name: String) -> CheckState? {
        get { entries.first { $0.name == name }?.state }
        set {
            let i = entries.firstIndex { $0.name == name }
            switch (i, newValue) {
            case (let i?, let v?): entries[i].state = v
            case (let i?, nil): entries.remove(at: i)
            case (nil, let v?): entries.append(Entry(name: name, state: v))
            case (nil, nil): break
            }
        }
    }

    var values: LazyMapSequence<[Entry], CheckState> { entries.lazy.map(\.state) }
}
