/// How a successful probe changes its real server's weight (keepalived's dynamic checkers).
public enum WeightAdjustment: Hashable, Sendable {
    /// The weight becomes this value: a script's exit status 2–255 gives status − 2 (misc_dynamic).
    case set(Int32)
    /// This amount is added to the configured weight: a file check's value × its weight (FILE_CHECK).
    case add(Int64)

    /// keepalived sums every checker's change on top of the configured weight, a `set` being the
    /// change from the configured weight to its value; the kernel takes 0 ... Int32.max.
    public static func weight(desired: Int32, adjustments: some Sequence<WeightAdjustment>) -> Int32 {
        var total = Int64(desired)
        for a in adjustments {
            switch a {
            case .set(let w): total += Int64(w) - Int64(desired)
            case .add(let d): total += d
            }
        }
        return Int32(clamping: min(max(total, 0), Int64(Int32.max)))
    }
}

/// What one probe run said: its verdict, why, how long it took and when it ended.
public struct ProbeResult: Hashable, Sendable {
    public var ok: Bool
    /// Why it failed ("connection refused", "status 503"), or what passed ("status 200").
    public var reason: String
    /// Milliseconds from the start of the probe to its verdict.
    public var milliseconds: UInt32
    /// A dynamic weight, from a script's exit status or a file's value.
    public var adjustment: WeightAdjustment?
    /// When the verdict came (wall clock).
    public var at: HealthTime

    public init(ok: Bool, reason: String, milliseconds: UInt32 = 0, adjustment: WeightAdjustment? = nil, at: HealthTime) {
        self.ok = ok
        self.reason = reason
        self.milliseconds = milliseconds
        self.adjustment = adjustment
        self.at = at
    }
}
