import LVSModel

extension GroupChange {
    /// The groups after `changes`, sorted by name, and the names of the groups the changes touched.
    public static func apply(_ changes: [GroupChange], to groups: [PortGroup]) throws(LVSError) -> (groups: [PortGroup], touched: Set<String>) {
        var byName: [String: PortGroup] = [:]
        for g in groups { byName[g.name] = g }
        var touched = Set<String>()
        for change in changes {
            switch change {
            case .put(let g):
                byName[g.name] = g
                touched.insert(g.name)
            case .addEntries(let name, let entries):
                guard var g = byName[name] else { throw missing(name) }
                var present = Set(g.entries)
                for e in entries {
                    guard present.insert(e).inserted else {
                        throw .badInput("group \(name) already has the entry '\(e.description)'")
                    }
                    g.entries.append(e)
                }
                byName[name] = g
                touched.insert(name)
            case .deleteEntries(let name, let entries):
                guard var g = byName[name] else { throw missing(name) }
                var absent = Set(entries)
                g.entries.removeAll { absent.remove($0) != nil }
                if let e = entries.first(where: { absent.contains($0) }) {
                    throw .badInput("group \(name) has no entry '\(e.description)'; `show groups` lists its entries")
                }
                byName[name] = g
                touched.insert(name)
            case .delete(let name):
                guard byName.removeValue(forKey: name) != nil else { throw missing(name) }
                touched.insert(name)
            }
        }
        let result = byName.values.map { g in
            var g = g
            g.entries.sort()
            return g
        }.sorted { $0.name < $1.name }
        try PortGroupRules.check(result, changed: touched.filter { byName[$0] != nil })
        return (result, touched)
    }

    static func missing(_ name: String) -> LVSError {
        .badInput("there is no group \(name); create it first with `group \(name) vip ...`")
    }
}
