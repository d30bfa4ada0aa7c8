/// The entries and marks of a set of port groups, indexed so that one group (or a few entries) is checked
/// against all the others in O(k log n) for k entries, and added or removed at the same cost. A batch of
/// n groups is then checked in O(n log n) where comparing every pair, as `PortGroupRules.check(_:against:)`
/// does for one group, costs O(n²).
///
/// Layout: per (protocol, address or any) a sorted array of port ranges, which the rules keep disjoint,
/// so one binary search finds the one range a new range could overlap. An `any` entry overlaps the
/// addressed entries of every address: for those, each protocol has a count of addressed entries per port
/// (a segment tree over the 65,536 ports; range add, range maximum).
///
/// The index answers yes or no. Callers that refuse a change produce the message with the full check
/// (`PortGroupRules.check(_:changed:)`), which then names both groups exactly as before.
public struct PortGroupIndex: Sendable {
    /// False when the groups it was built from already break the rules (overlaps, a mark used twice):
    /// such a set can only be checked whole, and the index refuses every change.
    public private(set) var isConsistent = true

    private struct Bucket: Hashable, Sendable {
        var proto: L4Protocol
        var address: IPAddress?

        /// Two words instead of the synthesized five: a load of 100,000 VIPs hashes a bucket several
        /// times per entry. (Equal buckets hash equally; the rare collision is settled by ==.)
        func hash(into hasher: inout Hasher) {
            let family: UInt64 = address == nil ? 1 : address!.family == .v6 ? 2 : 0
            hasher.combine(address?.low ?? 0)
            hasher.combine((address?.high ?? 0) ^ (UInt64(proto.rawValue) << 48) ^ (family << 44))
        }
    }

    private struct Span: Sendable {
        var low: UInt16
        var high: UInt16
        var owner: Int32
    }

    /// Per (protocol, address or any): disjoint ranges sorted by port.
    private var spans: [Bucket: [Span]] = [:]
    /// Per protocol: how many addressed entries cover each port.
    private var addressed: [L4Protocol: PortCoverage] = [:]
    private var ids: [String: Int32] = [:]
    private var markOwners: [UInt32: String] = [:]

    public init() {}

    /// The index of `groups`; `isConsistent` is false if they overlap or share a mark.
    public init(_ groups: some Sequence<PortGroup>) {
        for g in groups where !insert(g) {
            self = PortGroupIndex()
            isConsistent = false
            return
        }
    }

    // MARK: queries

    /// The group that has `mark`, if any.
    public func owner(ofMark mark: UInt32) -> String? { markOwners[mark] }

    /// Whether a packet could match both `entry` and an entry in the index.
    public func overlaps(_ entry: PortGroupEntry) -> Bool {
        let low = entry.ports.lowerBound, high = entry.ports.upperBound
        if Self.find(low, high, in: spans[Bucket(proto: entry.protocolName, address: nil)]).overlaps { return true }
        if let address = entry.address {
            return Self.find(low, high, in: spans[Bucket(proto: entry.protocolName, address: address)]).overlaps
        }
        return addressed[entry.protocolName].map { $0.maximum(Int(low), Int(high)) > 0 } ?? false
    }

    // MARK: changes

    /// Adds a group (its name and mark must not be in the index). False, and the index unchanged, if its
    /// mark is taken or an entry overlaps another of the index or of the group.
    public mutating func insert(_ group: PortGroup) -> Bool {
        guard isConsistent, markOwners[group.mark] == nil else { return false }
        guard insert(group.entries, of: group.name) else { return false }
        markOwners[group.mark] = group.name
        return true
    }

    /// Removes a group that `insert` added, with the entries it has now.
    public mutating func remove(_ group: PortGroup) {
        guard isConsistent else { return }
        let removed = remove(group.entries, of: group.name)
        assert(removed, "group \(group.name) is not in the index as given")
        if markOwners[group.mark] == group.name { markOwners[group.mark] = nil }
    }

    /// Replaces `old` (if any) by `new`, as re-issuing `group NAME ...` does; false, and the index
    /// unchanged, if `new` breaks the rules against the other groups or itself.
    public mutating func replace(_ old: PortGroup?, with new: PortGroup) -> Bool {
        guard isConsistent else { return false }
        if let old { remove(old) }
        if insert(new) { return true }
        if let old { _ = insert(old) }
        return false
    }

    /// Adds entries to group `name`; false, and the index unchanged, if one overlaps an entry of the
    /// index (the group's own included) or another of `entries`.
    public mutating func insert(_ entries: [PortGroupEntry], of name: String) -> Bool {
        guard isConsistent else { return false }
        let owner = id(name)
        for (i, e) in entries.enumerated() {
            if overlaps(e) {
                for done in entries[..<i].reversed() { _ = removeSpan(done, owner) }
                return false
            }
            insertSpan(e, owner)
        }
        return true
    }

    /// Removes entries of group `name`; false, and the index unchanged, if one is not the group's.
    public mutating func remove(_ entries: [PortGroupEntry], of name: String) -> Bool {
        guard isConsistent, let owner = ids[name] else { return entries.isEmpty }
        for (i, e) in entries.enumerated() where !removeSpan(e, owner) {
            for done in entries[..<i] { insertSpan(done, owner) }
            return false
        }
        return true
    }

    // MARK: internals

    private mutating func id(_ name: String) -> Int32 {
        if let i = ids[name] { return i }
        let i = Int32(ids.count)
        ids[name] = i
        return i
    }

    /// The first position whose range ends at or after `low` (where a range `low...high` would go), and
    /// whether the range there overlaps `low...high`. Ranges are disjoint, so their ends ascend too.
    private static func find(_ low: UInt16, _ high: UInt16, in spans: [Span]?) -> (position: Int, overlaps: Bool) {
        guard let spans else { return (0, false) }
        var lo = 0, hi = spans.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if spans[mid].high < low { lo = mid + 1 } else { hi = mid }
        }
        return (lo, lo < spans.count && spans[lo].low <= high)
    }

    private mutating func insertSpan(_ e: PortGroupEntry, _ owner: Int32) {
        let key = Bucket(proto: e.protocolName, address: e.address)
        let span = Span(low: e.ports.lowerBound, high: e.ports.upperBound, owner: owner)
        let at = Self.find(span.low, span.high, in: spans[key]).position
        spans[key, default: []].insert(span, at: at)
        if e.address != nil { addressed[e.protocolName, default: PortCoverage()].add(Int(span.low), Int(span.high), 1) }
    }

    /// Removes exactly `e` of `owner`; false if the index has no such entry.
    private mutating func removeSpan(_ e: PortGroupEntry, _ owner: Int32) -> Bool {
        let key = Bucket(proto: e.protocolName, address: e.address)
        let low = e.ports.lowerBound, high = e.ports.upperBound
        let (at, found) = Self.find(low, high, in: spans[key])
        guard found, let s = spans[key]?[at], s.low == low, s.high == high, s.owner == owner else { return false }
        spans[key]!.remove(at: at)
        if spans[key]!.isEmpty { spans[key] = nil }
        if e.address != nil { addressed[e.protocolName]?.add(Int(low), Int(high), -1) }
        return true
    }
}

/// Counts over the ports 0...65535 with range add and range maximum in O(log 65536), as a segment tree
/// whose node holds what was added to its whole range (`added`) and the maximum below it (`top`).
struct PortCoverage: Sendable {
    private static let leaves = 1 << 16
    private var added = [Int32](repeating: 0, count: 2 * leaves)
    private var top = [Int32](repeating: 0, count: 2 * leaves)

    mutating func add(_ low: Int, _ high: Int, _ delta: Int32) {
        guard low == high else { return add(low, high, delta, node: 1, from: 0, to: Self.leaves - 1) }
        // One port, the common case (100,000 VIPs on one port): its leaf, then each ancestor bottom up,
        // without the recursion's walk down.
        var node = Self.leaves + low
        added[node] += delta
        top[node] += delta
        while node > 1 {
            node /= 2
            top[node] = added[node] + max(top[2 * node], top[2 * node + 1])
        }
    }

    private mutating func add(_ low: Int, _ high: Int, _ delta: Int32, node: Int, from: Int, to: Int) {
        if low <= from && to <= high {
            added[node] += delta
            top[node] += delta
            return
        }
        let mid = (from + to) / 2
        if low <= mid { add(low, high, delta, node: 2 * node, from: from, to: mid) }
        if high > mid { add(low, high, delta, node: 2 * node + 1, from: mid + 1, to: to) }
        top[node] = added[node] + max(top[2 * node], top[2 * node + 1])
    }

    /// The largest count of a port in `low...high`.
    func maximum(_ low: Int, _ high: Int) -> Int32 { maximum(low, high, node: 1, from: 0, to: Self.leaves - 1) }

    private func maximum(_ low: Int, _ high: Int, node: Int, from: Int, to: Int) -> Int32 {
        if low <= from && to <= high { return top[node] }
        let mid = (from + to) / 2
        var m = Int32.min
        if low <= mid { m = max(m, maximum(low, high, node: 2 * node, from: from, to: mid)) }
        if high > mid { m = max(m, maximum(low, high, node: 2 * node + 1, from: mid + 1, to: to)) }
        return added[node] + m
    }
}
