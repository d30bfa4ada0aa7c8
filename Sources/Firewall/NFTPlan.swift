import LVSModel

/// An element of the `groups` set: a group's mark, with its name as the element's comment.
struct NFTNameElement: Hashable, Sendable, Comparable {
    var mark: UInt32
    var name: String

    static func < (a: NFTNameElement, b: NFTNameElement) -> Bool { (a.mark, a.name) < (b.mark, b.name) }
}

/// An element of one of the maps: an entry and the mark it sets.
struct NFTEntryElement: Hashable, Sendable {
    var entry: PortGroupEntry
    var mark: UInt32
    /// For the fast path's probe: a single port written as a one-port interval of the ranges map.
    var asRange = false
    var map: NFTMap {
        var map = NFTMap(for: entry)
        if asRange { map.kind = .ranges }
        return map
    }
}

/// The element changes that turn the kernel's state into the desired one: deletions, then additions.
struct NFTElementPlan: Equatable, Sendable {
    var nameDeletes: [NFTNameElement] = []
    var entryDeletes: [NFTEntryElement] = []
    var entryAdds: [NFTEntryElement] = []
    var nameAdds: [NFTNameElement] = []

    var isEmpty: Bool { nameDeletes.isEmpty && entryDeletes.isEmpty && entryAdds.isEmpty && nameAdds.isEmpty }
    /// Whether anything is added, which needs the table and its maps to exist.
    var addsAnything: Bool { !entryAdds.isEmpty || !nameAdds.isEmpty }
}

/// Pure planning: applies GroupChanges to the groups read from the kernel, validates the result, and
/// works out the smallest set of element additions and deletions.
enum NFTPlanner {
    /// The element changes from `current` (with `names`, the `groups` set as the kernel holds it) to
    /// `desired`, looking only at the groups in `touched`: the others cannot have changed.
    static func elements(from current: [PortGroup], names: [UInt32: String], to desired: [PortGroup],
                         touched: Set<String>) -> NFTElementPlan {
        var plan = NFTElementPlan()
        let before = current.filter { touched.contains($0.name) }
        let after = desired.filter { touched.contains($0.name) }

        // Names: the kernel's name elements for the marks involved, against the desired ones.
        let marks = Set(before.map(\.mark)).union(after.map(\.mark))
        let have = Set(names.filter { marks.contains($0.key) }.map { NFTNameElement(mark: $0.key, name: $0.value) })
        let want = Set(after.map { NFTNameElement(mark: $0.mark, name: $0.name) })
        plan.nameDeletes = have.subtracting(want).sorted()
        plan.nameAdds = want.subtracting(have).sorted()

        // Entries: an entry whose mark changes is deleted and added again, in the same transaction.
        var old: [PortGroupEntry: UInt32] = [:]
        old.reserveCapacity(before.reduce(0) { $0 + $1.entries.count })
        for g in before { for e in g.entries { old[e] = g.mark } }
        var new: [PortGroupEntry: UInt32] = [:]
        new.reserveCapacity(after.reduce(0) { $0 + $1.entries.count })
        for g in after { for e in g.entries { new[e] = g.mark } }
        for g in before {
            for e in g.entries where new[e] != g.mark { plan.entryDeletes.append(NFTEntryElement(entry: e, mark: g.mark)) }
        }
        for g in after {
            for e in g.entries where old[e] != g.mark { plan.entryAdds.append(NFTEntryElement(entry: e, mark: g.mark)) }
        }
        plan.entryDeletes.sort { $0.entry < $1.entry }
        plan.entryAdds.sort { $0.entry < $1.entry }
        return plan
    }

    /// Every element of `desired`, for a table created anew (replacing one an earlier lvsh made). A
    /// group gets its name element when it had one (`names`) or is being written (`touched`); a mark
    /// found only in the maps (group "mark-N") stays without one, as it was.
    static func everything(_ desired: [PortGroup], names: [UInt32: String], touched: Set<String>) -> NFTElementPlan {
        var plan = NFTElementPlan()
        plan.nameAdds = Set(desired.filter { names[$0.mark] != nil || touched.contains($0.name) }
            .map { NFTNameElement(mark: $0.mark, name: $0.name) }).sorted()
        plan.entryAdds = desired.flatMap { g in g.entries.map { NFTEntryElement(entry: $0, mark: g.mark) } }
            .sorted { $0.entry < $1.entry }
        return plan
    }
}
