import Firewall
import IPVS
import LVSModel

/// The candidate state seen through the kernel's read interface, so that a `show`, `ipvsadm -L` or
/// `save` after changes in the same batch shows the state the batch is about to commit. It writes
/// nothing: the batch's one commit does.
struct CandidateView: IPVSControl {
    let candidate: Candidate
    let kernel: KernelAccess

    func info() throws(LVSError) -> IPVSInfo {
        if let e = candidate.ipvsUnavailable { throw e }
        return try kernel.ipvs().info()
    }

    func table(_ detail: TableDetail) throws(LVSError) -> IPVSTable {
        if let e = candidate.ipvsUnavailable { throw e }
        return candidate.table
    }

    func timeouts() throws(LVSError) -> Timeouts {
        if let e = candidate.ipvsUnavailable { throw e }
        return candidate.timeouts
    }

    func daemons() throws(LVSError) -> [SyncDaemon] {
        if let e = candidate.ipvsUnavailable { throw e }
        return candidate.daemons
    }

    func execute(_ operations: [IPVSOperation]) throws(LVSError) -> [IPVSFailure?] {
        throw .failed("internal error: a show wrote to IPVS")
    }

    /// The sysctl as the batch leaves it.
    func sysctl(_ name: String) -> String? { candidate.sysctls[name] ?? kernel.readSysctl(name) }
}

/// The candidate's groups through the mark backend's read interface (see CandidateView).
final class CandidateMarks: MarkBackend {
    let view: CandidateView

    init(_ view: CandidateView) { self.view = view }

    var name: String { (try? view.kernel.marks(false).name) ?? "nft" }

    func groups() throws(LVSError) -> [PortGroup] {
        if let e = view.candidate.groupsUnavailable { throw e }
        return view.candidate.groups.values.sorted { $0.name < $1.name }
    }

    func update(_ plan: ([PortGroup]) throws(LVSError) -> [GroupChange]) throws(LVSError) -> [GroupChange] {
        throw .failed("internal error: a show wrote to the mark backend")
    }

    /// The rules the batch is about to write. nftables' are rendered from the groups; iptables' listing
    /// comes from iptables-save, so after group changes in the same batch it is refused rather than
    /// showing rules that are not the ones about to be written.
    func rulesText() throws(LVSError) -> String {
        let backend = try view.kernel.marks(false)
        if backend is NFTablesBackend { return NFTablesBackend.rulesText(of: try groups()) }
        guard try backend.groups() == groups() else {
            throw .badInput("`show rules` lists the kernel's rules, and this batch changes groups before it; "
                + "run it after the batch (or use `show groups`, which shows the batch's groups)")
        }
        return try backend.rulesText()
    }
}
