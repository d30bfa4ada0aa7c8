#if canImport(Glibc)
import Glibc
#endif
import Firewall
import IPVS
import LVSModel

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

    public init() {}
}

/// `lvsh apply FILE`: make the kernel look like the file, with the smallest plan, and say what changed.
public struct ApplyRunner {
    let session: Session
    let options: ApplyOptions

    public init(session: Session, options: ApplyOptions) {
        self.session = session
        self.options = options
    }

    public func run(path: String, text: String? = nil) -> Int32 {
        do throws(LVSError) {
            return try apply(path: path, text: text)
        } catch {
            if options.json {
                session.out(JSON.object([("changed", .bool(false)), ("failed", .bool(true)),
                                         ("msg", .string(error.message))]).text + "\n")
            }
            session.err(error.message + "\n")
            return error.code.rawValue
        }
    }

    private func apply(path: String, text: String?) throws(LVSError) -> Int32 {
        guard let text = text ?? (path == "-" ? StandardStream.readAll(0) : ProcFile.read(path)) else {
            throw .badInput("cannot read \(path): \(String(cString: strerror(errno)))")
        }
        let (desired, fileWarnings) = try DesiredState.evaluate(text, file: path == "-" ? "<stdin>" : path,
                                                               readSysctl: session.readSysctl,
                                                               autoSysctl: session.options.autoSysctl)
        // Writers hold the namespace's lock from reading the kernel to the last write.
        let runtime = try RuntimeDirectory.current()
        let lock = options.check ? nil : try NamespaceLock(runtime)
        defer { withExtendedLifetime(lock) {} }

        let actual = try readActual(sysctls: Array(desired.sysctls.keys), needIPVS: !desired.services.isEmpty || desired.timeouts != nil || !desired.daemons.isEmpty)
        let plan = StatePlanner.plan(from: actual, to: desired, prune: options.prune)
        var warnings = fileWarnings
        for key in plan.untouched {
            warnings.append("service \(PlanDescription.name(key)) is not in \(path); left alone (--prune removes it)")
        }

        // Check the plan against the actual state step by step: this also gives each step its undo.
        var candidate = Candidate(table: IPVSTable(services: actual.services), daemons: actual.daemons,
                                  timeouts: actual.timeouts ?? .kernelDefault, groups: actual.groups, readSysctl: session.readSysctl)
        for (name, value) in plan.sysctls { candidate.setSysctl(name, value, "set \(name) = \(value)") }
        for op in plan.ipvsFirst { try candidate.apply(op, summary(op)) }
        for change in plan.groups { try candidate.apply(change, groupSummary(change)) }
        let drainStart = candidate.changes.count
        for (key, r) in plan.realDeletes {
            try candidate.apply(.deleteRealServer(key, r.identity), "delete real server \(PlanDescription.endpoint(r.address, r.port)) of \(PlanDescription.name(key))")
        }
        for key in plan.serviceDeletes { try candidate.apply(.deleteService(key), "delete service \(PlanDescription.name(key)) (not in the file, --prune)") }
        for op in plan.daemonOps { try candidate.apply(op, summary(op)) }
        let changes = candidate.changes

        let before = render(actual, sysctlNames: desired.sysctls.keys)
        let after = render(state(of: candidate, sysctls: actual.sysctls), sysctlNames: desired.sysctls.keys)
        let diff = options.diff || options.json ? LineDiff.unified(before: before, after: after) : ""

        var writes = 0
        var failure: LVSError? = nil
        if !options.check && !changes.isEmpty {
            if let seconds = options.confirm { try armRollback(runtime, before: before, seconds: seconds) }
            var executor = Executor(writers: writers, failAtStep: session.options.failStep)
            var report = executor.run(Array(changes[..<drainStart]))
            writes += report.writes
            if report.failure == nil, let seconds = options.drain, drainStart < changes.count {
                let drained = try drain(plan.realDeletes, seconds: seconds, executor: &executor)
                writes += drained
            }
            if report.failure == nil {
                report = executor.run(Array(changes[drainStart...]))
                writes += report.writes
            }
            if let f = report.failure {
                var message = (report.failedChange.map { "\($0.summary): " } ?? "") + f.message
                message += report.undoFailures.isEmpty
                    ? "\nThe changes already made were undone; the kernel is as it was before apply."
                    : "\nUndoing failed too; the kernel is partly changed:\n  " + report.undoFailures.joined(separator: "\n  ")
                failure = LVSError(.failed, message)
            }
        }

        if options.json {
            session.out(JSON.object([
                ("changed", .bool(!changes.isEmpty && failure == nil)),
                ("diff", .object([("before", .string(before)), ("after", .string(after))])),
                ("plan", .array(changes.map(PlanDescription.json))),
                ("warnings", .array(warnings.map(JSON.string))),
                ("writes", .int(writes)),
            ] + (failure.map { [("failed", JSON.bool(true)), ("msg", .string($0.message))] } ?? [])).text + "\n")
        } else {
            for w in warnings { session.err(w + "\n") }
            if options.diff && !diff.isEmpty { session.out(diff) }
            if changes.isEmpty {
                session.out("changed: false (the kernel already matches \(path))\n")
            } else {
                session.out(options.check ? "changes pending (--check, nothing applied):\n" : "")
                if options.check || session.options.dryRun { for (i, c) in changes.enumerated() { session.out("\(i + 1). \(c.summary)\n") } }
                if !options.check && failure == nil {
                    session.out("changed: true (\(changes.count) change\(changes.count == 1 ? "" : "s"), \(writes) kernel write\(writes == 1 ? "" : "s"))\n")
                    if let seconds = options.confirm {
                        session.out("run `lvsh confirm` within \(seconds) s, or the previous state comes back\n")
                    }
                }
            }
        }
        if let failure {
            if !options.json { session.err(failure.message + "\n") }
            return failure.code.rawValue
        }
        return 0
    }

    /// Weight 0 for every real server that leaves, then wait until none has connections (or time runs out).
    private func drain(_ leaving: [(ServiceKey, RealServer)], seconds: Int, executor: inout Executor) throws(LVSError) -> Int {
        var quiet: [PlannedChange] = []
        for (key, r) in leaving where r.weight != 0 {
            var zero = r
            zero.weight = 0
            quiet.append(PlannedChange(step: .ipvs(.editRealServer(key, zero)), undo: [.ipvs(.editRealServer(key, r))],
                                       summary: "drain \(PlanDescription.endpoint(r.address, r.port)) of \(PlanDescription.name(key))", location: nil))
        }
        let report = executor.run(quiet)
        if let f = report.failure { throw f }
        let deadline = time(nil) + seconds
        while time(nil) < deadline {
            let table = try session.control.table(.listing)
            let busy = leaving.contains { key, r in
                table[key]?.realServers.first { $0.server.identity == r.identity }.map { $0.activeConnections + $0.inactiveConnections > 0 } ?? false
            }
            if !busy { break }
            usleep(200_000)
        }
        return report.writes
    }

    private func readActual(sysctls: [String], needIPVS: Bool) throws(LVSError) -> ManagedState {
        var s = ManagedState()
        do throws(LVSError) {
            s.services = try session.control.table(.complete).services
            s.daemons = try session.control.daemons()
            s.timeouts = try session.control.timeouts()
        } catch {
            if needIPVS { throw error }
        }
        s.groups = try session.marks().groups()
        for name in sysctls { if let v = session.readSysctl(name) { s.sysctls[name] = v } }
        return s
    }

    private func state(of c: Candidate, sysctls: [String: String]) -> ManagedState {
        var s = ManagedState()
        s.services = c.table.services
        s.groups = c.groups.values.sorted { $0.name < $1.name }
        s.daemons = c.daemons
        s.timeouts = c.timeouts
        s.sysctls = sysctls.merging(c.sysctls) { _, new in new }
        return s
    }

    private func render(_ s: ManagedState, sysctlNames: Dictionary<String, String>.Keys) -> String {
        RunningConfig.render(table: IPVSTable(services: s.services), groups: s.groups, timeouts: s.timeouts, daemons: s.daemons,
                             sysctls: sysctlNames.sorted().compactMap { n in s.sysctls[n].map { (n, $0) } },
                             defaultTimeouts: true)
    }

    private var writers: KernelWriters {
        let session = self.session
        return KernelWriters(ipvs: { () throws(LVSError) in session.control },
                             marks: { () throws(LVSError) in try session.marks() },
                             writeSysctl: session.writeSysctl)
    }

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
    private func armRollback(_ dir: RuntimeDirectory, before: String, seconds: Int) throws(LVSError) {
        try AtomicFile.write(before, to: dir.rollbackPath)
        try AtomicFile.write("\(time(nil) + seconds)\n", to: dir.pendingPath)
        try RollbackWaiter.spawn(dir: dir, seconds: seconds)
    }
}
