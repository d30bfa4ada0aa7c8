import Engine

extension PlanDescription {
    /// One plan step of `apply --json`: {"op", "object", "summary"}.
    static func json(_ change: PlannedChange) -> JSON {
        let (op, object) = op(change.step)
        return .object([("op", .string(op)), ("object", .string(object)), ("summary", .string(change.summary))])
    }
}
