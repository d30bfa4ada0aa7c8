#if canImport(Glibc)
import Glibc
#endif
import CNetlink
import LVSModel

/// The nftables mark backend: port groups as elements of six maps in table inet lvsh (per address
/// family a hash map of single ports and an interval map of ranges: a packet's lookups cost the same
/// whatever the number and shape of the groups), group names as comments of the `groups` set, every
/// change one atomic nfnetlink batch pinned to the generation it was planned against. See
/// Sources/Firewall/README.md.
public final class NFTablesBackend: MarkBackend {
    public let name = "nft"
    /// How often `update` plans and tries to commit before giving up when other programs keep changing
    /// the ruleset between lvsh's read and its commit.
    public static let maxAttempts = 5

    let socket: NFTSocket
    var reader: NFTReader { NFTReader(socket: socket) }

    /// What the last `update`, `apply` or `removeTable` sent: nil when it sent nothing.
    public internal(set) var lastBatch: NFTBatchStats?
    /// How many times the last `update` called its plan (more than 1 when the ruleset changed under it).
    public internal(set) var lastAttempts = 0
    /// Whether the last `apply` took the fast path for entry edits (NFTablesBackend+Edits.swift) rather
    /// than reading every group.
    public internal(set) var lastApplyWasFast = false
    /// For tests: runs just before the fast path sends its batch, to commit something in between.
    var fastPathWillCommit: (() -> Void)?

    /// Opens the netlink socket; with `networkNamespace` (a path such as /run/netns/NAME) all of this
    /// backend's work happens in that namespace.
    public init(networkNamespace: String? = nil) throws(LVSError) {
        socket = try NFTSocket(networkNamespace: networkNamespace)
    }

    public func groups() throws(LVSError) -> [PortGroup] {
        try snapshot().groups
    }

    /// Whether table inet lvsh names at least one group: a GETTABLE dump and, when the table exists, the
    /// `groups` set's elements; unlike `groups()` it reads no map, so it costs the same whatever the
    /// number of entries (for choosing a backend on every command).
    public func holdsGroups() throws(LVSError) -> Bool {
        for _ in 1...NFTablesBackend.maxAttempts {
            do throws(NFTError) {
                let inventory = try reader.inventory()
                guard inventory.table, inventory.sets[NFTLayout.groupsSet] != nil else { return false }
                return try !reader.names().isEmpty
            } catch {
                guard case .failed(let e) = error else { continue }
                throw e
            }
        }
        throw keptChanging("read table inet lvsh")
    }

    public func update(_ plan: ([PortGroup]) throws(LVSError) -> [GroupChange]) throws(LVSError) -> [GroupChange] {
        lastBatch = nil
        for attempt in 1...NFTablesBackend.maxAttempts {
            lastAttempts = attempt
            let snap = try snapshot()
            let changes = try plan(snap.groups)
            if changes.isEmpty { return [] }
            let (desired, touched) = try GroupChange.apply(changes, to: snap.groups)
            // A table an earlier lvsh made (its maps v4, v6, any) is replaced whole: the batch
            // deletes it, creates today's layout and writes every group into it, in one transaction.
            let replacing = snap.inventory.hasEarlierLayout
            let elements = replacing
                ? NFTPlanner.everything(desired, names: snap.names, touched: touched)
                : NFTPlanner.elements(from: snap.groups, names: snap.names, to: desired, touched: touched)
            if elements.isEmpty && !replacing { return changes }

            let batch = NFTBatch(generation: snap.generation, firstSequence: socket.nextSequence)
            if elements.addsAnything || replacing {
                // The first group creates the table, maps, chains and rules, in its own transaction.
                NFTLayout.append(try NFTLayout.missing(from: snap.inventory), to: batch)
            }
            var nameOf: [UInt32: String] = [:]
            for g in snap.groups { nameOf[g.mark] = g.name }
            for g in desired { nameOf[g.mark] = g.name }
            let groupName = { (mark: UInt32) in nameOf[mark] ?? "mark-\(mark)" }
            batch.appendNames(elements.nameDeletes, adding: false)
            batch.appendEntries(elements.entryDeletes, adding: false, groupName: groupName)
            batch.appendEntries(elements.entryAdds, adding: true, groupName: groupName)
            batch.appendNames(elements.nameAdds, adding: true)
            batch.end()
            socket.advance(through: batch.sequences.upperBound)

            let replies = try socket.send(batch)
            lastBatch = batch.stats
            switch batch.outcome(of: replies, explain: NFTErrors.refused) {
            case .success: return changes
            case .failure(.rulesetChanged): continue
            case .failure(.failed(let error)): throw error
            }
        }
        throw keptChanging("apply the change")
    }

    /// Deletes table inet lvsh and with it every group and rule; returns whether it existed.
    @discardableResult
    public func removeTable() throws(LVSError) -> Bool {
        lastBatch = nil
        for _ in 1...NFTablesBackend.maxAttempts {
            let generation: UInt32, exists: Bool
            do throws(NFTError) {
                generation = try socket.generation()
                exists = try reader.inventory().table
            } catch {
                guard case .failed(let e) = error else { continue }
                throw e
            }
            guard exists else { return false }
            let batch = NFTBatch(generation: generation, firstSequence: socket.nextSequence)
            NFTLayout.appendDeleteTable(to: batch)
            batch.end()
            socket.advance(through: batch.sequences.upperBound)
            let replies = try socket.send(batch)
            lastBatch = batch.stats
            switch batch.outcome(of: replies, explain: NFTErrors.refused) {
            case .success: return true
            case .failure(.rulesetChanged): continue
            case .failure(.failed(let error)): throw error
            }
        }
        throw keptChanging("delete table inet lvsh")
    }

    /// Whether nf_tables can hold lvsh's table here: one round trip sending a transaction that creates
    /// a probe inet table but has no BATCH_END, so the kernel checks it and then aborts; nothing is ever
    /// created. A table is enough (a kernel without the inet family refuses it), and a base chain would
    /// cost milliseconds of hook registration and RCU waiting in the abort, on every read-only call. Without CAP_NET_ADMIN the kernel cannot be asked and
    /// the answer is true, so that the user hears "needs root" from the backend itself.
    public static func isAvailable(networkNamespace: String? = nil) -> Bool {
        probe(networkNamespace: networkNamespace) == .available
    }

    /// What the probe of `isAvailable` found.
    public enum Availability: Sendable, Equatable {
        case available
        /// nf_tables answered but refused the inet table (a kernel without the inet family).
        case noInetFamily
        /// No nf_tables at all: nfnetlink has no such subsystem (EOPNOTSUPP), or no netfilter socket.
        case missing
    }

    /// `isAvailable`, telling a kernel without nf_tables (where iptables-nft cannot work either) from one
    /// without the inet family.
    public static func probe(networkNamespace: String? = nil) -> Availability {
        guard let socket = try? NFTSocket(networkNamespace: networkNamespace) else { return .missing }
        let batch = NFTBatch(generation: nil, firstSequence: socket.nextSequence)
        let probe = "lvsh-probe"
        batch.append(NFT_MSG_NEWTABLE, flags: Int32(NLM_F_CREATE), note: .init(what: "probe")) { nlh in
            mnl_attr_put_strz(nlh, nftAttr(NFTA_TABLE_NAME), probe)
        }
        batch.endWithoutCommit()
        socket.advance(through: batch.sequences.upperBound)
        guard let replies = try? socket.send(batch) else { return .noInetFamily }
        if replies.contains(where: { $0.errno == EPERM || $0.errno == EACCES }) { return .available }
        if replies.contains(where: { $0.errno == EOPNOTSUPP }) { return .missing }
        if replies.contains(where: { $0.errno != 0 }) { return .noInetFamily }
        return replies.contains { $0.sequence == batch.lastCommandSequence } ? .available : .noInetFamily
    }

    /// A consistent read, retried while the generation moves under it.
    private func snapshot() throws(LVSError) -> NFTSnapshot {
        for _ in 1...NFTablesBackend.maxAttempts {
            do throws(NFTError) {
                return try reader.read()
            } catch {
                guard case .failed(let e) = error else { continue }
                throw e
            }
        }
        throw keptChanging("read table inet lvsh")
    }

    func keptChanging(_ what: String) -> LVSError {
        .failed("cannot \(what): the nftables ruleset changed \(NFTablesBackend.maxAttempts) times while lvsh was planning against it (another program is rewriting it); nothing was applied, try again")
    }
}
