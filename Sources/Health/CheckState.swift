/// The verdict of one check on one real server, or of the real server as a whole.
public enum HealthState: String, Hashable, Sendable, CaseIterable {
    case up, down, unknown, disabled
}

/// One check of one real server: keepalived's rise/fall counting as a small state machine.
///
/// `rise` successes in a row bring a down check up, `fall` failures in a row take an up check
/// down; a result of the other kind resets the count. An unknown check (a real server adopted from
/// the kernel at daemon start, or a check added to a real server that carries traffic) goes up at
/// its first success and down after `fall` failures, so a healthy restart writes nothing.
public struct CheckState: Hashable, Sendable {
    // Laid out widest first, and the last result kept field by field rather than as a ProbeResult
    // (whose dynamic weight `adjustment` already holds): 64 bytes a check rather than 96.
    private var lastReason = ""
    /// When `state` last changed.
    public private(set) var since: HealthTime
    private var lastAt = HealthTime(milliseconds: .min)
    /// The dynamic weight of the last success; it applies while the check is up.
    public private(set) var adjustment: WeightAdjustment?
    public private(set) var successes: UInt32 = 0
    public private(set) var failures: UInt32 = 0
    private var lastMilliseconds: UInt32 = 0
    /// up, down or unknown; `disabled` belongs to real servers, not checks.
    public private(set) var state: HealthState
    private var lastOK = false

    /// The last result counted, nil before the first.
    public var last: ProbeResult? {
        guard lastAt.milliseconds != .min else { return nil }
        return ProbeResult(ok: lastOK, reason: lastReason, milliseconds: lastMilliseconds,
                           adjustment: lastOK ? adjustment : nil, at: lastAt)
    }

    public init(state: HealthState, since: HealthTime) {
        precondition(state != .disabled, "checks are up, down or unknown")
        self.state = state
        self.since = since
    }

    /// Counts one result; returns the old state when the state changed.
    public mutating func record(_ result: ProbeResult, rise: UInt32, fall: UInt32) -> HealthState? {
        lastOK = result.ok
        lastReason = result.reason
        lastMilliseconds = result.milliseconds
        lastAt = result.at
        let before = state
        if result.ok {
            successes = successes &+ 1
            failures = 0
            adjustment = result.adjustment
            if state == .unknown || (state == .down && successes >= rise) { state = .up }
        } else {
            failures = failures &+ 1
            successes = 0
            if state != .down && failures >= fall { state = .down }
        }
        guard state != before else { return nil }
        since = result.at
        return before
    }
}
