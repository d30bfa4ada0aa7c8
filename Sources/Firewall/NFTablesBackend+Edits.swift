#if canImport(Glibc)
import Glibc
#endif
import CNetlink
import LVSModel

/// Entry edits (`group NAME add|del ...`) at a cost that does not grow with the size of the groups.
///
/// `update` reads the whole table, every element of every map, to plan and check a change: right for
/// creating or replacing a group, but it makes adding one entry to a 100,000-entry group a
/// 100,000-element read. `apply` takes edits another way. It reads what the kernel cannot check for it
/// and lets the kernel refuse the rest:
///
/// - the generation id (the batch is pinned to it: anything committed since makes the kernel refuse
///   the batch with ERESTART and the edit is tried again), lvsh's objects (missing ones are created,
///   as `update` does) and the `groups` set, which gives each group's mark;
/// - an added entry goes into its map with NLM_F_EXCL; the kernel refuses an exact duplicate (EEXIST).
///   It cannot see overlaps between a family's hash map (single ports) and its interval map (ranges),
///   so every port added is first tried as a one-port interval, and every port of an added range as a
///   single port, in a transaction that is never committed; this costs the ports added, not the size
///   of the groups;
/// - the kernel cannot see overlaps across families: an entry with an address is checked against the
///   `any` maps, read whole, and an `any` entry against all six maps (such an edit costs what `update` does);
/// - the kernel deletes an element by its key whatever mark it carries, so each entry to delete is
///   first fetched (GETSETELEM of its first key) to make sure it is that group's.
///
/// When any of this finds a problem, or the kernel refuses an element, the same changes go to `update`,
/// which reads everything and either reports exactly what is wrong ("'any tcp 443' overlaps '10.0.0.1
/// tcp 443' of group web", exit 2, nothing applied) or, if the problem has gone meanwhile, applies them.
extension NFTablesBackend {
    /// Added ranges with more ports than this together go to `update` instead of being tried port by port.
    static let maxProbedPorts = 65_536

    public func apply(_ changes: [GroupChange]) throws(LVSError) -> [GroupChange] {
        lastBatch = nil
        lastApplyWasFast = false
        if let edits = NFTEntryEdits(changes) {
            attempts: for attempt in 1...NFTablesBackend.maxAttempts {
                lastAttempts = attempt
                let outcome: FastOutcome
                do throws(NFTError) {
                    outcome = try applyFast(edits)
                } catch {
                    guard case .failed(let e) = error else { continue }
                    throw e
                }
                switch outcome {
                case .applied:
                    lastApplyWasFast = true
                    return changes
                case .rulesetChanged:
                    continue
                case .needsFullCheck:
                    break attempts
                }
            }
        }
        return try update { _ throws(LVSError) in changes }
    }

    enum FastOutcome {
        case applied
        case rulesetChanged
        /// Something to check needs every group (or the edits are not what the fast path takes).
        case needsFullCheck
    }

    private func applyFast(_ edits: NFTEntryEdits) throws(NFTError) -> FastOutcome {
        let generation = try socket.generation()
        let inventory = try reader.inventory()
        // A table of an earlier layout is replaced whole by `update`, whose read decodes it.
        guard inventory.table, inventory.sets[NFTLayout.groupsSet] != nil, !inventory.hasEarlierLayout else { return .needsFullCheck }
        let missing: NFTLayout.Missing
        do { missing = try NFTLayout.missing(from: inventory) } catch { throw .failed(error) }

        var markOf: [String: UInt32] = [:]
        for (mark, name) in try reader.names() {
            // Two marks with one name: `update` shows them as they are.
            guard markOf.updateValue(mark, forKey: name) == nil else { return .needsFullCheck }
        }
        var adds: [NFTEntryElement] = [], deletes: [NFTEntryElement] = []
        for (group, entry) in edits.adds {
            guard let mark = markOf[group] else { return .needsFullCheck }
            adds.append(NFTEntryElement(entry: entry, mark: mark))
        }
        for (group, entry) in edits.deletes {
            guard let mark = markOf[group] else { return .needsFullCheck }
            deletes.append(NFTEntryElement(entry: entry, mark: mark))
        }
        guard try addsClashWithNothing(adds, inventory: inventory), try deletesAreHeld(deletes) else {
            return .needsFullCheck
        }

        var nameOf: [UInt32: String] = [:]
        for (name, mark) in markOf { nameOf[mark] = name }
        let batch = NFTBatch(generation: generation, firstSequence: socket.nextSequence)
        if !adds.isEmpty { NFTLayout.append(missing, to: batch) }
        batch.appendEntries(deletes, adding: false) { nameOf[$0] ?? "mark-\($0)" }
        batch.appendEntries(adds, adding: true) { nameOf[$0] ?? "mark-\($0)" }
        batch.end()
        socket.advance(through: batch.sequences.upperBound)
        fastPathWillCommit?()
        let replies: [NFTReply]
        do { replies = try socket.send(batch) } catch { throw .failed(error) }
        lastBatch = batch.stats
        switch batch.outcome(of: replies, explain: NFTErrors.refused) {
        case .success:
            return .applied
        case .failure(.rulesetChanged):
            return .rulesetChanged
        case .failure(.failed(let error)):
            // An added entry overlaps one the kernel holds, or an entry to delete has gone: `update`
            // finds which, and of which group.
            if let e = error.errno, [EEXIST, ENOTEMPTY, ENOENT].contains(e) { return .needsFullCheck }
            throw .failed(error)
        }
    }

    /// Whether the added entries overlap nothing, as far as the kernel will not check it itself.
    private func addsClashWithNothing(_ adds: [NFTEntryElement], inventory: NFTLayout.Inventory) throws(NFTError) -> Bool {
        guard !adds.isEmpty else { return true }
        // Across families (and, when an `any` entry makes us read every map, within them too).
        let readAll = adds.contains { $0.entry.address == nil }
        var held: [UInt32: [PortGroupEntry]] = [:]
        for map in NFTMap.allCases where (readAll || map.family == .any) && inventory.sets[map.setName] != nil {
            try reader.readEntries(of: map, into: &held)
        }
        // Only whether something overlaps matters here, not what: `update` says that.
        let new = PortGroup(name: "new", mark: 1, entries: adds.map(\.entry))
        let old = PortGroup(name: "held", mark: 2, entries: held.values.flatMap { $0 })
        do { try PortGroupRules.check([new, old], changed: ["new"]) } catch { return false }
        if readAll { return true }

        // Within a family, across its two maps: every port added must lie in no held range, and the
        // ports of an added range must not be held as single ports (an exact duplicate single port the
        // kernel refuses itself, EEXIST, in the real batch). Both asked of the kernel in one
        // transaction that is never committed, so this costs the ports added, not the groups' size.
        guard adds.reduce(0, { $0 + $1.entry.ports.count }) <= NFTablesBackend.maxProbedPorts else { return false }
        var probes: [NFTEntryElement] = []
        for add in adds {
            for p in add.entry.ports {
                let single = NFTEntryElement(entry: PortGroupEntry(address: add.entry.address, protocol: add.entry.protocolName, ports: p...p), mark: add.mark)
                // A one-port interval: the kernel refuses it where a held range covers the port.
                probes.append(NFTEntryElement(entry: single.entry, mark: add.mark, asRange: true))
                if add.entry.ports.count > 1 { probes.append(single) }
            }
        }
        // Without BATCH_END the kernel checks each message, answers, and aborts: nothing is applied
        // (as in `isAvailable`).
        let probe = NFTBatch(generation: nil, firstSequence: socket.nextSequence)
        probe.appendEntries(probes, adding: true) { "mark-\($0)" }
        probe.endWithoutCommit()
        socket.advance(through: probe.sequences.upperBound)
        let replies: [NFTReply]
        do { replies = try socket.send(probe) } catch { throw .failed(error) }
        return !replies.contains { $0.errno != 0 }
    }

    /// Whether each entry to delete is held (its first port, with its group's mark): a GETSETELEM of its
    /// first key, which in the interval map answers the range holding that port. A range held with
    /// another last port fails the deletion of its end key (ENOENT), and `update` reports it.
    private func deletesAreHeld(_ deletes: [NFTEntryElement]) throws(NFTError) -> Bool {
        for d in deletes {
            let (map, key, _) = NFTElementCodec.keys(of: d.entry)
            var held = false
            do {
                try socket.request(NFT_MSG_GETSETELEM, family: NFTLayout.family, dump: false,
                                   what: "get an element of \(map.setName) in table inet lvsh", attributes: { nlh in
                    mnl_attr_put_strz(nlh, nftAttr(NFTA_SET_ELEM_LIST_TABLE), NFTLayout.table)
                    mnl_attr_put_strz(nlh, nftAttr(NFTA_SET_ELEM_LIST_SET), map.setName)
                    let nest = mnl_attr_nest_start(nlh, nftAttr(NFTA_SET_ELEM_LIST_ELEMENTS))!
                    let e = nftnl_set_elem_alloc()!
                    defer { nftnl_set_elem_free(e) }
                    key.withUnsafeBytes { _ = nftnl_set_elem_set(e, nftAttr(NFTNL_SET_ELEM_KEY), $0.baseAddress, UInt32($0.count)) }
                    _ = nftnl_set_elem_nlmsg_build(nlh, e, 1)
                    mnl_attr_nest_end(nlh, nest)
                }) { nlh in
                    let s = nftnl_set_alloc()!
                    defer { nftnl_set_free(s) }
                    guard nftnl_set_elems_nlmsg_parse(nlh, s) >= 0, let iter = nftnl_set_elems_iter_create(s) else { return }
                    defer { nftnl_set_elems_iter_destroy(iter) }
                    while let e = nftnl_set_elems_iter_next(iter) {
                        var klen: UInt32 = 0, dlen: UInt32 = 0
                        let k = nftnl_set_elem_get(e, nftAttr(NFTNL_SET_ELEM_KEY), &klen).flatMap { NFTKey(bytes: UnsafeRawBufferPointer(start: $0, count: Int(klen))) }
                        let mark = nftnl_set_elem_get(e, nftAttr(NFTNL_SET_ELEM_DATA), &dlen).flatMap { NFTElementCodec.mark(from: UnsafeRawBufferPointer(start: $0, count: Int(dlen))) }
                        if k == key && mark == d.mark { held = true }
                    }
                }
            } catch {
                // ENOENT: nothing holds that port; anything else `update` will meet and report too.
                guard case .failed = error else { throw error }
                return false
            }
            if !held { return false }
        }
        return true
    }
}

/// Changes that only add or delete entries of groups, each entry at most once: what `apply` takes on
/// the fast path. (An entry added and deleted in one transaction, or a group created, replaced or
/// removed, goes to `update`, which plans the net effect.)
struct NFTEntryEdits {
    var adds: [(group: String, entry: PortGroupEntry)] = []
    var deletes: [(group: String, entry: PortGroupEntry)] = []

    init?(_ changes: [GroupChange]) {
        var seen = Set<PortGroupEntry>()
        for change in changes {
            switch change {
            case .addEntries(let group, let entries):
                for e in entries {
                    guard seen.insert(e).inserted else { return nil }
                    adds.append((group, e))
                }
            case .deleteEntries(let group, let entries):
                for e in entries {
                    guard seen.insert(e).inserted else { return nil }
                    deletes.append((group, e))
                }
            case .put, .delete:
                return nil
            }
        }
        if adds.isEmpty && deletes.isEmpty { return nil }
    }
}
