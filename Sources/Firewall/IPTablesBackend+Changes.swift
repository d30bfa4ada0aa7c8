import LVSModel

extension IPTablesBackend {
    /// The groups after `changes`, checked whole before anything is written (bad input → exit 2,
    /// nothing applied).
    static func groups(applying changes: [GroupChange], to current: [PortGroup]) throws(LVSError) -> [PortGroup] {
        try GroupChange.apply(changes, to: current).groups
    }

    /// Groups sorted by name with sorted entries: the order groups() returns, so results compare with ==.
    static func normalized(_ groups: [PortGroup]) -> [PortGroup] {
        groups.map { PortGroup(name: $0.name, mark: $0.mark, entries: $0.entries.sorted()) }.sorted { $0.name < $1.name }
    }
}
