#if canImport(Glibc)
import Glibc
#endif
import Engine
import Firewall
import IPVS
import LVSModel
import System

/// The options of `lvsh apply FILE`.
public struct ApplyOptions: Sendable {
    public var check = false
    public var diff = false
    public var json = false
    public var prune = false
    /// Drain real servers that leave: weight 0, then delete once idle or after this many seconds.
    public var drain: Int?
    /// Roll back automatically unless `lvsh confirm` runs within this many seconds.
    public var confirm: Int?
    /// With --check (and `show diff`): exit 3 when changes are pending, 0 when in sync (cron jobs).
    public var exitCode = false
    /// The IPVS services the kernel is taken to hold instead of reading them (lvsh daemon's reload).
    public var assumedServices: [ServiceStatus]?
    /// Services and groups to delete although the desired state does not prune (the daemon's).
    public var leaving = Leaving()

    public init() {}
}

/// What `apply` found and did, for the fronts to render.
public struct ApplyReport {
    /// The plan as shown: drain steps (with --drain) before the deletes; summaries are made when shown.
    public var plan: [PlannedChange] = []
    /// The whole configuration as text before and after, when --diff, --json or --confirm need it.
    public var before = "", after = "", diff = ""
    public var warnings: [String] = []
    /// Kernel writes made (requests sent).
    public var writes = 0
    /// Whether there are changes: pending (--check) or made; false for a plan with nothing to do and
    /// after a failure that was undone.
    public var changed = false
    public var failure: LVSError?
}

/// `lvsh apply FILE`: make the kernel look like the file, with the smallest plan, and say what changed.
public struct ApplyRunner {
    let session: Session
    let options: ApplyOptions
    /// How the change is recorded (ChangeRecord.front): "apply", "rollback", "confirm-rollback".
    public var front = "apply"
    /// What the record names as the change's source; the path by default.
    public var source: String?

    public init(session: Session, options: ApplyOptions) {
        self.session = session
        self.options = options
    }

    public func run(path: String, text: String? = nil) -> Int32 {
        do throws(LVSError) {
            return render(try apply(path: path, text: text), path: path)
        } catch {
            if options.json {
                session.out(JSON.object([("changed", .bool(false)), ("failed", .bool(true)),
                                         ("msg", .string(error.message))]).text + "\n")
            }
            session.err(error.message + "\n")
            return error.code.rawValue
        }
    }

    /// What apply says of a file's checks, maintenance and metrics, which only `lvsh daemon` acts on.
    static func healthWarning(_ h: HealthConfig, file: String) -> String? {
        guard !h.isEmpty else { return nil }
        var parts: [String] = []
        if !h.checks.isEmpty { parts.append("\(h.checks.count) check\(h.checks.count == 1 ? "" : "s")") }
        if !h.disabled.isEmpty { parts.append("\(h.disabled.count) real server\(h.disabled.count == 1 ? "" : "s") in maintenance") }
        if h.metricsListen != nil { parts.append("metrics") }
        if h.reconcile != .repair || !h.policies.isEmpty { parts.append("daemon settings") }
        return "warning: \(file): \(parts.joined(separator: ", ")) need `lvsh daemon \(file)`; apply sets the written weights"
    }

    /// The plan and the diff without changing anything or taking the lock (`show diff`).
    func plan(path: String, text: String? = nil) throws(LVSError) -> ApplyReport {
        var options = self.options
        options.check = true
        options.diff = true
        return try ApplyRunner(session: session, options: options).apply(path: path, text: text)
    }

    private func apply(path: String, text given: String?) throws(LVSError) -> ApplyReport {
        let text: String
        if let given { text = given } else { text = try session.input(path) }
        var tx = try transaction()
        let file = path == "-" ? "<stdin>" : path
        let (desired, fileWarnings) = try evaluate(text, file: file, marksOf: tx.base)
        var report = try apply(desired, path: path, tx: &tx)
        report.warnings = fileWarnings + (Self.healthWarning(desired.health, file: file).map { [$0] } ?? []) + report.warnings
        // Recorded while the transaction still holds the writer lock: the archived configuration is this apply's.
        if !options.check && !report.plan.isEmpty {
            session.recordChange(front: front, source: source ?? path, steps: report.plan.map { summarized($0).summary }, failure: report.failure)
        }
        return report
    }

    /// A file's desired state, its groups keeping the marks the kernel gives them now (`lvsh daemon`
    /// reads its file once and applies the state as health changes it).
    /// Only the groups are read: a reload of 10,000 services should not read the IPVS table twice.
    public func evaluate(_ text: String, file: String) throws(LVSError) -> (state: ManagedState, warnings: [String]) {
        try evaluate(text, file: file, groups: try session.kernel.marks(true).groups())
    }

    private func evaluate(_ text: String, file: String, marksOf base: KernelState) throws(LVSError) -> (state: ManagedState, warnings: [String]) {
        try evaluate(text, file: file, groups: base.groups)
    }

    private func evaluate(_ text: String, file: String, groups: [PortGroup]) throws(LVSError) -> (state: ManagedState, warnings: [String]) {
        try DesiredState.evaluate(text, file: file, readSysctl: session.readSysctl, autoSysctl: session.options.autoSysctl,
                                  currentMarks: Dictionary(groups.map { ($0.name, $0.mark) }, uniquingKeysWith: { a, _ in a }),
                                  ipvsadm: session.options.ipvsadm)
    }

    /// Makes the kernel hold `desired` (a state already evaluated): the daemon's way in. `label` names
    /// it in messages.
    public func apply(_ desired: ManagedState, label: String) throws(LVSError) -> ApplyReport {
        var tx = try transaction()
        return try apply(desired, path: label, tx: &tx)
    }

    /// Writers hold the namespace's lock from reading the kernel to the last write.
    private func transaction() throws(LVSError) -> Transaction {
        let reads: Transaction.Reads = options.assumedServices.map { .assumingServices($0) } ?? .everything
        var tx = try Transaction(session.kernel, reads: reads, writing: !options.check,
                                 autoSysctl: session.options.autoSysctl, failAtStep: session.options.failStep)
        if let e = tx.base.groupsError { throw e }
        tx.wording = LVSHWording()
        return tx
    }

    private func apply(_ desired: ManagedState, path: String, tx: inout Transaction) throws(LVSError) -> ApplyReport {
        let needIPVS = !desired.services.isEmpty || desired.timeouts != nil || !desired.daemons.isEmpty
        if needIPVS, let e = tx.base.ipvsError { throw e }
        // The state as read, not as a candidate: a plan with nothing to do never models the table.
        let actual = state(of: tx.base, sysctls: Array(desired.sysctls.keys))
        let plan = StatePlanner.plan(from: actual, to: desired, prune: options.prune, leaving: options.leaving)
        var report = ApplyReport()
        for key in plan.untouched {
            report.warnings.append("service \(PlanDescription.name(key)) is not in \(path); left alone (--prune removes it)")
        }
        for name in plan.untouchedGroups {
            report.warnings.append("group \(name) is not in \(path); left alone (--prune removes it)")
        }
        // Checking the plan against the actual state step by step also gives each step its undo.
        // A plan with nothing to do touches no candidate: re-applying a 10,000-service file stays cheap.
        // A daemon's reload models only the services its plan touches, unless the plan changes
        // groups or sync daemons (which are checked against every service) or the whole state is shown.
        let wantsText = options.diff || options.json
        if plan.groups.isEmpty && plan.daemonOps.isEmpty && !wantsText && options.confirm == nil {
            tx.modelOnly(plan.serviceKeys)
        }
        if !plan.isEmpty { tx.candidate.wording = LVSHWording() }
        let drainStart = plan.isEmpty ? 0 : try check(plan, in: &tx.candidate)
        let changes = plan.isEmpty ? [] : tx.candidate.changes
        // With --drain, real servers that leave get weight 0 first and are deleted once drained: those
        // steps are part of the plan shown (--check, --json) and run with the changes before them.
        let drainSteps = options.drain == nil ? [] : Self.drainSteps(plan.realDeletes)
        report.plan = Array(changes[..<drainStart]) + drainSteps + Array(changes[drainStart...])
        report.changed = !changes.isEmpty

        // The whole configuration as text, before and after: for --diff and --json, and for --confirm's
        // rollback; otherwise not rendered (50,000 lines each for a large table).
        let names = Set(desired.sysctls.keys)
        if wantsText || (options.confirm != nil && !options.check && !changes.isEmpty) { report.before = render(actual, sysctlNames: names) }
        if wantsText {
            report.after = changes.isEmpty ? report.before : render(state(of: tx.candidate, sysctls: Array(names)), sysctlNames: names)
            report.diff = LineDiff.unified(before: report.before, after: report.after)
        }
        guard !options.check && !changes.isEmpty else { return report }
        if let seconds = options.confirm { try armRollback(before: report.before, seconds: seconds) }
        try execute(changes, drainStart: drainStart, drainSteps: drainSteps, plan: plan, into: &report, tx: &tx)
        if report.failure == nil {
            report.failure = try verify(changes, planned: tx.candidate,
                                        tableSize: tx.modelsPart ? tx.base.ipvs.table.services.count : tx.candidate.serviceCount, path: path)
        }
        return report
    }

    /// Applies the plan's steps to the candidate (the actual state), in the order they run; returns
    /// where the deletes start, which --drain delays.
    private func check(_ plan: StatePlanner.Plan, in c: inout Candidate) throws(LVSError) -> Int {
        // Summaries are written when a change is shown (summarized), not for each of 50,000 changes.
        for (name, value) in plan.sysctls { c.setSysctl(name, value, "") }
        for op in plan.ipvsFirst { try c.apply(op, "") }
        for change in plan.groups { try c.apply(change, "") }
        let drainStart = c.changes.count
        for (key, r) in plan.realDeletes { try c.apply(.deleteRealServer(key, r.identity), "") }
        for key in plan.serviceDeletes { try c.apply(.deleteService(key), "") }
        for op in plan.daemonOps { try c.apply(op, "") }
        return drainStart
    }

    /// Runs the changes (the drain steps, a wait for the drained servers, then the deletes) in one transaction.
    private func execute(_ changes: [PlannedChange], drainStart: Int, drainSteps: [PlannedChange], plan: StatePlanner.Plan,
                         into report: inout ApplyReport, tx: inout Transaction) throws(LVSError) {
        var run = tx.execute(Array(changes[..<drainStart]) + drainSteps)
        report.writes += run.writes
        if run.failure == nil, let seconds = options.drain, drainStart < changes.count {
            for r in try waitForDrain(plan.realDeletes, seconds: seconds) {
                report.warnings.append("real server \(r) still had connections after --drain \(seconds) s; deleted anyway")
            }
        }
        if run.failure == nil {
            run = tx.execute(Array(changes[drainStart...]))
            report.writes += run.writes
        }
        report.failure = Transaction.failure(of: run, before: "apply", describe: { summarized($0).summary })
        if report.failure != nil { report.changed = false }
    }

    /// The report for people, or as JSON (--json); the exit code.
    private func render(_ report: ApplyReport, path: String) -> Int32 {
        if options.json {
            session.out(JSON.object([
                ("changed", .bool(report.changed)),
                ("diff", .object([("before", .string(report.before)), ("after", .string(report.after))])),
                ("plan", .array(report.plan.map { PlanDescription.json(summarized($0)) })),
                ("warnings", .array(report.warnings.map(JSON.string))),
                ("writes", .int(report.writes)),
            ] + (report.failure.map { [("failed", JSON.bool(true)), ("msg", .string($0.message))] } ?? [])).text + "\n")
        } else {
            for w in report.warnings { session.err(w + "\n") }
            if options.diff && !report.diff.isEmpty { session.out(report.diff) }
            if report.plan.isEmpty {
                session.out("changed: false (the kernel already matches \(path))\n")
            } else {
                session.out(options.check ? "changes pending (--check, nothing applied):\n" : "")
                if options.check || session.options.dryRun {
                    for (i, c) in report.plan.enumerated() { session.out("\(i + 1). \(summarized(c).summary)\n") }
                }
                if !options.check && report.failure == nil {
                    let n = report.plan.count
                    session.out("changed: true (\(n) change\(n == 1 ? "" : "s"), \(report.writes) kernel write\(report.writes == 1 ? "" : "s"))\n")
                    if let seconds = options.confirm {
                        session.out("run `lvsh confirm` within \(seconds) s, or the previous state comes back\n")
                    }
                }
            }
        }
        if let failure = report.failure {
            if !options.json { session.err(failure.message + "\n") }
            return failure.code.rawValue
        }
        return options.check && options.exitCode && !report.plan.isEmpty ? Self.pendingExitCode : 0
    }

    /// `--exit-code`: changes are pending (DESIGN.md: 3 only with --exit-code).
    public static let pendingExitCode: Int32 = 3

    /// Weight 0 for every real server that leaves (--drain): no new connections go to it while the
    /// open ones finish.
    private static func drainSteps(_ leaving: [(ServiceKey, RealServer)]) -> [PlannedChange] {
        var quiet: [PlannedChange] = []
        for (key, r) in leaving where r.weight != 0 {
            var zero = r
            zero.weight = 0
            quiet.append(PlannedChange(step: .ipvs(.editRealServer(key, zero)), undo: [.ipvs(.editRealServer(key, r))],
                                       summary: "drain \(PlanDescription.endpoint(r.address, r.port)) of \(PlanDescription.name(key)) (weight 0)", location: nil))
        }
        return quiet
    }

    /// Waits until no real server that leaves has open connections, or time runs out: the servers
    /// that still had some at the deadline.
    private func waitForDrain(_ leaving: [(ServiceKey, RealServer)], seconds: Int) throws(LVSError) -> [String] {
        let deadline = time(nil) + seconds
        var busy: [(ServiceKey, RealServer)] = []
        repeat {
            let table = try session.control.table(.listing)
            // The counters first: they cost nothing more. A connection the client and server have
            // closed stays in IPVS as TIME_WAIT (2 minutes) or CLOSE and counts as inactive, yet it
            // carries nothing: when only inactive ones are left, the connection table tells them apart.
            var open: [Connection]? = nil
            busy = []
            for (key, r) in leaving {
                guard let status = table[key]?.realServers.first(where: { $0.server.identity == r.identity }) else { continue }
                if status.activeConnections == 0 {
                    if status.inactiveConnections == 0 { continue }
                    if open == nil {
                        open = try ConnectionReader.read().filter { !Self.finishedStates.contains($0.state) && $0.protocolName != "IP" }
                    }
                    // Real servers of fwmark services have port 0: any port of the address is theirs.
                    guard open!.contains(where: { $0.destination == r.address && (r.port == 0 || $0.destinationPort == r.port) }) else { continue }
                }
                busy.append((key, r))
            }
            if busy.isEmpty { break }
            usleep(200_000)
        } while time(nil) < deadline
        return busy.map { "\(PlanDescription.endpoint($0.1.address, $0.1.port)) of \(PlanDescription.name($0.0))" }
    }

    /// IPVS connection states (/proc/net/ip_vs_conn) of connections that are over and only wait to expire.
    private static let finishedStates: Set<String> = ["TIME_WAIT", "CLOSE"]

    /// After the writes: reads back the IPVS services the plan touched and compares them with the
    /// plan's after-state. lvsh's lock keeps other lvsh processes out, but not ipvsadm or keepalived:
    /// when one of them changed a service while apply ran, say so (exit 1) rather than report success.
    /// Only the touched services count, so a small change to a large table stays cheap.
    /// `tableSize`: how many services the kernel has, which decides how the touched ones are read.
    private func verify(_ changes: [PlannedChange], planned: Candidate, tableSize: Int, path: String) throws(LVSError) -> LVSError? {
        var touched: [ServiceKey] = [], seen = Set<ServiceKey>()
        for c in changes {
            if case .ipvs(let op) = c.step, let key = op.serviceKey, seen.insert(key).inserted { touched.append(key) }
        }
        guard !touched.isEmpty else { return nil }
        // The touched services alone, looked up: the candidate's whole table, made for this, was a
        // second copy of a 10,000-service table at each reload that changed one weight.
        var want: [ServiceKey: ServiceStatus] = [:]
        for key in touched { want[key] = planned.service(key) }
        let have = try readBack(touched, planned: tableSize,
                                thresholds: Set(want.values.filter { $0.realServers.contains { $0.server.upperThreshold != 0 || $0.server.lowerThreshold != 0 } }.map(\.service.key)))
        for key in touched {
            guard let difference = Self.difference(key, want: want[key], have: have[key]) else { continue }
            return LVSError(.failed, "after applying \(path): \(difference)\n"
                + "Another program changed IPVS while apply ran (lvsh's lock does not stop ipvsadm or keepalived); "
                + "the kernel is left as it is: run `lvsh show diff \(path)` to see the differences, and apply again.")
        }
        return nil
    }

    /// The touched services as the kernel has them now. A few: each read alone, the service and its
    /// destinations (a reload of 10,000 services that changed one weight read all 10,000 before).
    /// More: a service dump and one destination dump per touched service; when most of the table
    /// was touched (a first apply), the listing read instead (/proc/net/ip_vs holds every
    /// destination: one read instead of one dump per service), which lacks thresholds, so services
    /// that have some are read in full.
    private func readBack(_ keys: [ServiceKey], planned: Int, thresholds: Set<ServiceKey>) throws(LVSError) -> [ServiceKey: ServiceStatus] {
        var out: [ServiceKey: ServiceStatus] = [:]
        let wanted = Set(keys)
        guard session.control is LazyIPVSClient || session.control is IPVSClient else {
            // Another IPVSControl (a test's): its whole table.
            for s in try session.control.table(.complete).services where wanted.contains(s.service.key) { out[s.service.key] = s }
            return out
        }
        let client = try IPVSClient()
        if keys.count <= Self.servicesReadAlone {
            for key in keys {
                guard let (service, stats) = try client.service(key) else { continue }
                out[key] = ServiceStatus(service: service, stats: stats, realServers: try client.realServers(of: key))
            }
        } else if keys.count * 4 > planned {
            for s in try client.table(.listing).services where wanted.contains(s.service.key) { out[s.service.key] = s }
            for key in thresholds where out[key] != nil { out[key]!.realServers = try client.realServers(of: key) }
        } else {
            for (service, stats) in try client.services() where wanted.contains(service.key) {
                out[service.key] = ServiceStatus(service: service, stats: stats, realServers: try client.realServers(of: service.key))
            }
        }
        return out
    }

    /// Up to this many touched services are read back one by one: two requests each.
    static let servicesReadAlone = 16

    /// The first way the kernel's service differs from the planned one, naming the object; nil when equal.
    static func difference(_ key: ServiceKey, want: ServiceStatus?, have: ServiceStatus?) -> String? {
        let name = "service \(PlanDescription.name(key))"
        switch (want, have) {
        case (nil, nil): return nil
        case (nil, .some): return "\(name) exists, but apply deleted it"
        case (.some, nil): return "\(name) is missing, but apply wrote it"
        case (let want?, let have?):
            // What the kernel adds on its own (the hashed flag) is not a difference.
            var kernelService = have.service
            kernelService.flags.formIntersection(.userSettable)
            if want.service != kernelService {
                return "\(name) is `\(ServiceCommands.describe(have.service))` in the kernel, but apply wrote `\(ServiceCommands.describe(want.service))`"
            }
            let kernel = Dictionary(have.realServers.map { ($0.server.identity, $0.server) }, uniquingKeysWith: { a, _ in a })
            let planned = Dictionary(want.realServers.map { ($0.server.identity, $0.server) }, uniquingKeysWith: { a, _ in a })
            for r in want.realServers {
                let real = "real server \(PlanDescription.endpoint(r.server.address, r.server.port)) of \(name)"
                guard let k = kernel[r.server.identity] else { return "\(real) is missing, but apply wrote it" }
                if k != r.server {
                    return "\(real) is `\(RealServerCommands.describe(k))` in the kernel, but apply wrote `\(RealServerCommands.describe(r.server))`"
                }
            }
            for r in have.realServers where planned[r.server.identity] == nil {
                return "real server \(PlanDescription.endpoint(r.server.address, r.server.port)) of \(name) exists, but apply did not write it"
            }
            return nil
        }
    }

    /// The kernel's state as read, as apply compares it; `sysctls` are the ones the file names.
    private func state(of base: KernelState, sysctls: [String]) -> ManagedState {
        var s = ManagedState()
        s.services = base.ipvs.table.services
        s.groups = base.groups
        s.daemons = base.ipvs.daemons
        s.timeouts = base.ipvsError == nil ? base.ipvs.timeouts : nil
        for name in sysctls { if let v = session.readSysctl(name) { s.sysctls[name] = v } }
        return s
    }

    /// The candidate's state as apply compares it; `sysctls` are the ones the file names.
    private func state(of c: Candidate, sysctls: [String]) -> ManagedState {
        var s = ManagedState()
        s.services = c.table.services
        s.groups = c.groups.values.sorted { $0.name < $1.name }
        s.daemons = c.daemons
        s.timeouts = c.ipvsUnavailable == nil ? c.timeouts : nil
        for name in sysctls { if let v = c.sysctls[name] ?? session.readSysctl(name) { s.sysctls[name] = v } }
        return s
    }

    private func render(_ s: ManagedState, sysctlNames: Set<String>) -> String {
        RunningConfig.render(table: IPVSTable(services: s.services), groups: s.groups, timeouts: s.timeouts, daemons: s.daemons,
                             sysctls: sysctlNames.sorted().compactMap { n in s.sysctls[n].map { (n, $0) } },
                             defaultTimeouts: true)
    }

    /// A planned change's one line for people (logs of the daemon).
    public func summary(of change: PlannedChange) -> String { summarized(change).summary }

    /// The change with its one-line summary for people.
    private func summarized(_ c: PlannedChange) -> PlannedChange {
        guard c.summary.isEmpty else { return c }
        var c = c
        switch c.step {
        case .sysctl(let name, let value): c.summary = "set \(name) = \(value)"
        case .groups(let change): c.summary = groupSummary(change)
        case .ipvs(.deleteRealServer(let key, let r)):
            c.summary = "delete real server \(PlanDescription.endpoint(r.address, r.port)) of \(PlanDescription.name(key))"
        case .ipvs(.deleteService(let key)): c.summary = "delete service \(PlanDescription.name(key)) (not in the file, --prune)"
        case .ipvs(let op): c.summary = summary(op)
        }
        return c
    }

    /// One IPVS write in words: "edit real server …: weight 0 …".
    public func summary(of op: IPVSOperation) -> String { summary(op) }

    private func summary(_ op: IPVSOperation) -> String {
        let (verb, object) = PlanDescription.op(.ipvs(op))
        switch op {
        case .addService(let s), .editService(let s): return "\(verb) \(object): \(ServiceCommands.describe(s))"
        case .addRealServer(_, let r), .editRealServer(_, let r): return "\(verb) \(object): \(RealServerCommands.describe(r))"
        case .setTimeouts(let t): return "set timeouts tcp \(t.tcp) tcpfin \(t.tcpFin) udp \(t.udp)"
        case .startDaemon(let d): return "start \(SettingsCommands.command(for: d))"
        default: return "\(verb) \(object)"
        }
    }

    private func groupSummary(_ c: GroupChange) -> String {
        switch c {
        case .put(let g): return "put group \(g.name) mark \(g.mark) (\(g.entries.count) entries)"
        case .addEntries(let n, let e): return "add \(e.count) entr\(e.count == 1 ? "y" : "ies") to group \(n)"
        case .deleteEntries(let n, let e): return "remove \(e.count) entr\(e.count == 1 ? "y" : "ies") from group \(n)"
        case .delete(let n): return "delete group \(n)"
        }
    }

    /// Saves the state before apply and starts a process that restores it unless `lvsh confirm` comes first.
    private func armRollback(before: String, seconds: Int) throws(LVSError) {
        guard let dir = try session.runtime() else { throw .failed("--confirm needs the namespace's runtime folder (/run/lvsh)") }
        try AtomicFile.write(before, to: dir.rollbackPath)
        // The deadline and this process: what the waiter recognises as its own arming.
        try AtomicFile.write("\(time(nil) + seconds) \(getpid())\n", to: dir.pendingPath)
        try RollbackWaiter.spawn(dir: dir, seconds: seconds)
    }
}
