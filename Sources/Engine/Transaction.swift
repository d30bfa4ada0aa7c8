#if canImport(Glibc)
import Glibc
#endif
import Firewall
import IPVS
import LVSModel
import System

/// How the engine reaches one network namespace: IPVS, the firewall-mark backend, sysctls and the
/// runtime folder. The lvsh executable passes the kernel's; unit tests pass fakes (and no folder).
public struct KernelAccess {
    public var ipvs: () throws(LVSError) -> any IPVSControl
    /// The mark backend; `forWriting` lets a reader skip the probe a writer needs.
    public var marks: (_ forWriting: Bool) throws(LVSError) -> any MarkBackend
    public var readSysctl: (String) -> String?
    public var writeSysctl: (String, String) throws(LVSError) -> Void
    /// /run/lvsh/net-INODE for the writer lock; nil where there is no lock to take (fakes).
    public var runtime: () throws(LVSError) -> RuntimeDirectory?

    public init(ipvs: @escaping () throws(LVSError) -> any IPVSControl,
                marks: @escaping (_ forWriting: Bool) throws(LVSError) -> any MarkBackend,
                readSysctl: @escaping (String) -> String?,
                writeSysctl: @escaping (String, String) throws(LVSError) -> Void,
                runtime: @escaping () throws(LVSError) -> RuntimeDirectory?) {
        self.ipvs = ipvs
        self.marks = marks
        self.readSysctl = readSysctl
        self.writeSysctl = writeSysctl
        self.runtime = runtime
    }
}

/// One change to a namespace, whichever front asked for it (console line, `-c`, `-f`, `load`, `apply`,
/// `confirm`'s rollback, `ipvsadm` lines): the writer lock (once per process), the kernel read once
/// into a candidate, every change checked against the candidate, then the executor with undo.
///
/// Sources/README.md walks one command from argv to its netlink message through it.
public struct Transaction {
    /// What the transaction reads before its first change.
    public enum Reads: Sendable {
        /// IPVS (table, daemons, timeouts) and every group: what any command may check against.
        case everything
        /// Nothing: a batch of entry edits only (`group NAME add|del ...`), which the backend checks
        /// against the kernel's groups as it applies them (see Candidate.defersGroupChecks).
        case nothing
        /// Everything but the IPVS services, which are taken to be these: lvsh daemon's reload, the
        /// one writer of the namespace, knows what it wrote (a 10,000-service read is a second in a
        /// slow guest); when the kernel differs, a write fails and the daemon reads it all.
        case assumingServices([ServiceStatus])
    }

    /// The kernel's state as read, before any change.
    public let base: KernelState
    private let kernel: KernelAccess
    private let lock: WriterLock?
    private var executor: Executor
    private var built: Candidate?
    /// The services the candidate models, when not all (see `modelOnly`).
    private var modelled: Set<ServiceKey>?
    private let autoSysctl: Bool
    private let reads: Reads

    /// The candidate: the state read, with every change so far. Built on first use, so that a front
    /// that finds nothing to change (a re-applied 10,000-service file) never models the table.
    public var candidate: Candidate {
        mutating get {
            build()
            return built!
        }
        _modify {
            build()
            yield &built!
        }
    }

    /// With assumed services, the candidate models only these: a daemon's reload that changes one
    /// weight of 10,000 services checks that one change, and a model of all 10,000 (an index and a
    /// copy of the table) was most of the memory the reload touched for the first time. The caller
    /// names every service its changes touch. Before the candidate is first used; otherwise nothing.
    public mutating func modelOnly(_ services: Set<ServiceKey>) {
        guard built == nil, case .assumingServices = reads else { return }
        modelled = services
    }

    /// Whether the candidate models only some services (`modelOnly`).
    public var modelsPart: Bool { modelled != nil }

    private mutating func build() {
        guard built == nil else { return }
        var c = base.candidate(readSysctl: kernel.readSysctl, only: modelled)
        c.autoSysctl = autoSysctl
        if case .nothing = reads { c.defersGroupChecks = true }
        built = c
    }

    /// Takes the lock when `writing` (joining this process's hold of it), then reads.
    public init(_ kernel: KernelAccess, reads: Reads, writing: Bool, autoSysctl: Bool = true,
                failAtStep: Int? = nil) throws(LVSError) {
        self.kernel = kernel
        self.autoSysctl = autoSysctl
        self.reads = reads
        lock = try writing ? kernel.runtime().map { dir throws(LVSError) in try WriterLock(dir) } : nil
        switch reads {
        case .everything: base = KernelState(reading: kernel)
        case .nothing: base = KernelState()
        case .assumingServices(let services): base = KernelState(reading: kernel, services: services)
        }
        let writers = KernelWriters(ipvs: kernel.ipvs, marks: { () throws(LVSError) in try kernel.marks(true) },
                                    writeSysctl: kernel.writeSysctl)
        executor = Executor(writers: writers, failAtStep: failAtStep)
        executor.pauseBeforeStep = Self.pauseFromEnvironment()
    }

    /// LVSH_PAUSE_BEFORE_STEP=STEP[:SECONDS] (default 3 s): the executor's test hook (see Executor), for
    /// every front, so a test can change the kernel behind lvsh's back between two steps of a commit.
    static func pauseFromEnvironment() -> (step: Int, seconds: UInt32)? {
        guard let raw = getenv("LVSH_PAUSE_BEFORE_STEP") else { return nil }
        let parts = String(cString: raw).split(separator: ":")
        guard let step = parts.first.flatMap({ Int($0) }), step > 0 else { return nil }
        return (step, parts.count > 1 ? UInt32(parts[1]) ?? 3 : 3)
    }

    /// The kernel's state as a candidate; what cannot be read makes the commands that need it fail.
    public static func read(_ kernel: KernelAccess) -> Candidate {
        KernelState(reading: kernel).candidate(readSysctl: kernel.readSysctl)
    }

    /// Test hook for a reproducible "middle of a plan" (see Executor.pauseBeforeStep).
    public var pauseBeforeStep: (step: Int, seconds: UInt32)? {
        get { executor.pauseBeforeStep }
        set { executor.pauseBeforeStep = newValue }
    }

    /// The language of kernel refusals' messages.
    public var wording: any RefusalWording {
        get { executor.wording }
        set { executor.wording = newValue }
    }

    /// Sends changes to the kernel. A step the kernel refuses undoes everything this transaction sent,
    /// across calls (apply's drain runs in two), newest first.
    public mutating func execute(_ changes: [PlannedChange]) -> ExecutionReport {
        executor.run(changes)
    }

    /// A failed execution as one message for people: the change at fault, the kernel's reason, and
    /// whether the kernel is back as it was (`before` names what: "this batch", "apply").
    public static func failure(of report: ExecutionReport, before: String,
                               describe: (PlannedChange) -> String = { ($0.location.map { "\($0): " } ?? "") + $0.summary }) -> LVSError? {
        guard let failure = report.failure else { return nil }
        var text = (report.failedChange.map { describe($0) + ": " } ?? "") + failure.message
        if report.undoFailures.isEmpty {
            text += "\nThe changes already made were undone; the kernel is as it was before \(before)."
        } else {
            text += "\nUndoing the changes already made failed too, so the kernel is partly changed:\n  "
                + report.undoFailures.joined(separator: "\n  ")
        }
        return LVSError(.failed, text, errno: failure.errno)
    }

    /// What show commands read after changes in the same batch: the candidate, not the kernel.
    public mutating func showContext(json: Bool, connections: @escaping () throws(LVSError) -> [Connection]) -> ShowContext {
        let view = CandidateView(candidate: candidate, kernel: kernel)
        var context = ShowContext(ipvs: { () throws(LVSError) in view }, marks: { () throws(LVSError) in CandidateMarks(view) },
                                  connections: connections, json: json, sysctl: view.sysctl)
        context.health = candidate.health
        return context
    }
}

/// What a transaction read of the kernel: IPVS's state and the groups, or why each could not be read
/// (a kernel without IPVS still has groups; the commands that need the missing part fail with it).
public struct KernelState: Sendable {
    public var ipvs = IPVSState()
    public var ipvsError: LVSError?
    public var groups: [PortGroup] = []
    public var groupsError: LVSError?

    /// Nothing read (a batch of entry edits only): the backend checks those against the kernel.
    init() {}

    /// Reads the kernel; with `services`, those stand for the IPVS table, which is not read.
    init(reading kernel: KernelAccess, services: [ServiceStatus]? = nil) {
        do throws(LVSError) {
            let control = try kernel.ipvs()
            if let services {
                ipvs.table = IPVSTable(services: services)
                ipvs.daemons = try control.daemons()
                ipvs.timeouts = try control.timeouts()
            } else {
                ipvs = try IPVSState(reading: control)
            }
        } catch {
            ipvsError = error
        }
        do throws(LVSError) {
            groups = try kernel.marks(true).groups()
        } catch {
            groupsError = error
        }
    }

    /// A candidate of this state (with no groups read: one that defers its group checks).
    func candidate(readSysctl: @escaping (String) -> String?, only services: Set<ServiceKey>? = nil) -> Candidate {
        let table = services.map { keys in IPVSTable(services: ipvs.table.services.filter { keys.contains($0.service.key) }) } ?? ipvs.table
        var c = Candidate(table: table, daemons: ipvs.daemons, timeouts: ipvs.timeouts, groups: groups, readSysctl: readSysctl)
        c.ipvsUnavailable = ipvsError
        c.groupsUnavailable = groupsError
        return c
    }
}
