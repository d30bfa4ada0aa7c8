extension PortGroupRules {
    /// Checks every group whose name is in `changed` against all of `groups` (which includes it), with
    /// the rules and messages of `check(_:against:)` but in O(n log n) for n entries in total, so that
    /// a 100,000-entry group is checked in milliseconds where comparing every pair would take minutes.
    public static func check(_ groups: [PortGroup], changed: Set<String>) throws(LVSError) {
        var markOwner: [UInt32: String] = [:]
        for g in groups where !changed.contains(g.name) { markOwner[g.mark] = g.name }
        for g in groups where changed.contains(g.name) {
            guard isValidName(g.name) else {
                throw .badInput("group name '\(Shown.word(g.name))' is not valid: use letters, digits, '-', '_' or '.', starting with a letter (at most 64)")
            }
            guard g.mark != 0 else {
                throw .badInput("group \(g.name): mark 0 means 'no mark' to the kernel; choose a mark from 1 to 4294967295, or leave it out to get one from 1000 up")
            }
            if let other = markOwner[g.mark], other != g.name {
                throw .badInput("group \(g.name): mark \(g.mark) is already used by group \(other); choose another mark or leave it out")
            }
            markOwner[g.mark] = g.name
        }
        try checkOverlaps(groups, changed: changed)
    }

    /// One entry of one group, sorted by protocol, then "any" before addresses, then address, then ports.
    private struct Item {
        var group: Int32
        var entry: Int32
        var proto: UInt16
        var address: IPAddress?
        var low: UInt16
        var high: UInt16

        static func sortsBefore(_ a: Item, _ b: Item) -> Bool {
            if a.proto != b.proto { return a.proto < b.proto }
            switch (a.address, b.address) {
            case (nil, .some): return true
            case (.some, nil): return false
            case let (x?, y?) where x != y: return x < y
            default: return (a.low, a.high) < (b.low, b.high)
            }
        }

        func sameBucket(_ o: Item) -> Bool { proto == o.proto && address == o.address }
    }

    private static func checkOverlaps(_ groups: [PortGroup], changed: Set<String>) throws(LVSError) {
        var items: [Item] = []
        items.reserveCapacity(groups.reduce(0) { $0 + $1.entries.count })
        for (gi, g) in groups.enumerated() {
            for (ei, e) in g.entries.enumerated() {
                items.append(Item(group: Int32(gi), entry: Int32(ei), proto: e.protocolName.rawValue,
                                  address: e.address, low: e.ports.lowerBound, high: e.ports.upperBound))
            }
        }
        items.sort(by: Item.sortsBefore)
        let isChanged = groups.map { changed.contains($0.name) }

        func fail(_ a: Item, _ b: Item) throws(LVSError) {
            let ga = groups[Int(a.group)], gb = groups[Int(b.group)]
            let ea = ga.entries[Int(a.entry)], eb = gb.entries[Int(b.entry)]
            if a.group == b.group {
                throw .badInput("group \(ga.name): entries '\(ea.description)' and '\(eb.description)' overlap; list each port once")
            }
            // Name the changed group first, as check(_:against:) does for the group it checks.
            let (g, e, og, oe) = isChanged[Int(b.group)] ? (gb, eb, ga, ea) : (ga, ea, gb, eb)
            throw .badInput("group \(g.name): '\(e.description)' overlaps '\(oe.description)' of group \(og.name); a packet can carry only one mark, so remove the port from one of them")
        }
        func matters(_ a: Item, _ b: Item) -> Bool { isChanged[Int(a.group)] || isChanged[Int(b.group)] }

        // Within one (protocol, address-or-any) bucket: sorted by first port, an entry overlaps an
        // earlier one exactly when it starts before the furthest end seen so far.
        var widest = 0
        for i in items.indices {
            if i == 0 || !items[i].sameBucket(items[i - 1]) { widest = i; continue }
            if items[i].low <= items[widest].high, matters(items[i], items[widest]) { try fail(items[widest], items[i]) }
            if items[i].high > items[widest].high { widest = i }
        }

        // An "any" entry overlaps addressed entries of its protocol. The any-bucket is now known to be
        // free of overlaps, so its ends ascend too and a binary search finds the one candidate.
        var start = 0
        while start < items.count {
            var end = start
            while end < items.count && items[end].proto == items[start].proto { end += 1 }
            var anyEnd = start
            while anyEnd < end && items[anyEnd].address == nil { anyEnd += 1 }
            if anyEnd > start {
                for j in anyEnd..<end {
                    var lo = start, hi = anyEnd
                    while lo < hi {
                        let mid = (lo + hi) / 2
                        if items[mid].high < items[j].low { lo = mid + 1 } else { hi = mid }
                    }
                    if lo < anyEnd, items[lo].low <= items[j].high, matters(items[lo], items[j]) {
                        try fail(items[lo], items[j])
                    }
                }
            }
            start = end
        }
    }
}
