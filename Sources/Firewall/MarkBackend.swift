import LVSModel

/// A change to the port groups, as a backend applies it.
public enum GroupChange: Hashable, Sendable {
    /// Creates the group, or replaces the mark and all entries of the group with that name.
    case put(PortGroup)
    /// Adds entries to an existing group.
    case addEntries(group: String, [PortGroupEntry])
    /// Removes entries from an existing group.
    case deleteEntries(group: String, [PortGroupEntry])
    /// Removes the group and stops marking its packets.
    case delete(group: String)
}

/// Writes the packet-filter rules that put a group's mark on its packets, and reads the groups back.
/// The kernel is the truth: names and marks live in the rules themselves, never in a side file.
public protocol MarkBackend: AnyObject {
    /// "nft" or "iptables".
    var name: String { get }
    /// The groups as the kernel holds them, sorted by name.
    func groups() throws(LVSError) -> [PortGroup]
    /// Plans against the current groups and applies the plan atomically. If another program changed
    /// the ruleset in between, the backend re-reads, calls `plan` again and retries a bounded number of
    /// times. Returns the changes applied (empty when the plan was empty).
    func update(_ plan: ([PortGroup]) throws(LVSError) -> [GroupChange]) throws(LVSError) -> [GroupChange]
    /// Applies `changes` as given, atomically, with the checks and messages of `update`: bad input throws
    /// exit 2 and applies nothing. A backend may check entry edits (`group NAME add|del ...`) without
    /// reading every group; by default this is `update { _ in changes }`.
    func apply(_ changes: [GroupChange]) throws(LVSError) -> [GroupChange]
    /// lvsh's rules as the backend's own tools print them (`show rules`).
    func rulesText() throws(LVSError) -> String
}

extension MarkBackend {
    public func apply(_ changes: [GroupChange]) throws(LVSError) -> [GroupChange] {
        try update { _ throws(LVSError) in changes }
    }
}
