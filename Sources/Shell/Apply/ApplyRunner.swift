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
        // Writers hold the namespace's lock from reading the kernel to the last write.
        let runtime = try RuntimeDirectory.current()
        let lock = options.check ? nil : try NamespaceLock(runtime)
        defer { withExtendedLifetime(lock) {} }

        let currentGroups = try session.marks().groups()
        let (desired, fileWarnings) = try DesiredState.evaluate(text, file: path == "-" ? "<stdin>" : path,
                                                               readSysctl: session.readSysctl,
                                                               autoSysctl: session.options.autoSysctl,
                                                               currentMarks: Dictionary(currentGroups.map { ($0.name, $0.mark) },
                                                                                        uniquingKeysWith: { a, _ in a }))
        let actual = try readActual(sysctls: Array(desired.sysctls.keys), needIPVS: !desired.services.isEmpty || desired.timeouts != nil || !desired.daemons.isEmpty,
                                    groups: currentGroups)
        let plan = StatePlanner.plan(from: actual, to: desired, prune: options.prune)
        var warnings = fileWarnings
        for key in plan.untouched {
            warnings.append("service \(PlanDescription.name(key)) is not in \(path); left alone (--prune removes it)")
        }
        for name in plan.untouchedGroups {
            warnings.append("group \(name) is not in \(path); left alone (--prune removes it)")
        }

        // Check the plan against the actual state step by step: this also gives each step its undo.
        // A plan with nothing to do needs no candidate: re-applying a 10,000-service file stays cheap.
        var candidate: Candidate? = nil
        var drainStart = 0
        if !plan.isEmpty {
            var c = Candidate(table: IPVSTable(services: actual.services), daemons: actual.daemons,
                              timeouts: actual.timeouts ?? .kernelDefault, groups: actual.groups, readSysctl: session.readSysctl)
            // Summaries are written when a change is shown (summarized), not for each of 50,000 changes.
            for (name, value) in plan.sysctls { c.setSysctl(name, value, "") }
            for op in plan.ipvsFirst { try c.apply(op, "") }
            for change in plan.groups { try c.apply(change, "") }
            drainStart = c.changes.count
            for (key, r) in plan.realDeletes { try c.apply(.deleteRealServer(key, r.identity), "") }
            for key in plan.serviceDeletes { try c.apply(.deleteService(key), "") }
            for op in plan.daemonOps { try c.apply(op, "") }
            candidate = c
        }
        let changes = candidate?.changes ?? []
        // With --drain, real servers that leave get weight 0 first and are deleted once drained: those
        // steps are part of the plan shown (--check, --json) and run with the changes before them.
        let drainSteps = options.drain == nil ? [] : Self.drainSteps(plan.realDeletes)
        let listed = Array(changes[..<drainStart]) + drainSteps + Array(changes[drainStart...])

        // The whole configuration as text, before and after: for --diff and --json, and for --confirm's
        // rollback; otherwise not rendered (50,000 lines each for a large table).
        let wantsText = options.diff || options.json
        let before = wantsText || (options.confirm != nil && !options.check && !changes.isEmpty)
            ? render(actual, sysctlNames: desired.sysctls.keys) : ""
        let after = !wantsText ? "" : candidate.map { render(state(of: $0, sysctls: actual.sysctls), sysctlNames: desired.sysctls.keys) } ?? before
        let diff = wantsText ? LineDiff.unified(before: before, after: after) : ""

        var writes = 0
        var failure: LVSError? = nil
        // Whether a failed execution was undone (then nothing changed), as opposed to a failed check afterwards.
        var undone = false
        if !options.check && !changes.isEmpty {
            if let seconds = options.confirm { try armRollback(runtime, before: before, seconds: seconds) }
            var executor = Executor(writers: writers, failAtStep: session.options.failStep)
            executor.pauseBeforeStep = Self.pauseFromEnvironment()
            var report = executor.run(Array(listed[..<(drainStart + drainSteps.count)]))
            writes += report.writes
            if report.failure == nil, let seconds = options.drain, drainStart < changes.count {
                for r in try waitForDrain(plan.realDeletes, seconds: seconds) {
                    warnings.append("real server \(r) still had connections after --drain \(seconds) s; deleted anyway")
                }
            }
            if report.failure == nil {
                report = executor.run(Array(changes[drainStart...]))
                writes += report.writes
            }
            if let f = report.failure {
                var message = (report.failedChange.map { "\(summarized($0).summary): " } ?? "") + f.message
                message += report.undoFailures.isEmpty
                    ? "\nThe changes already made were undone; the kernel is as it was before apply."
                    : "\nUndoing failed too; the kernel is partly changed:\n  " + report.undoFailures.joined(separator: "\n  ")
                failure = LVSError(.failed, message)
                undone = true
            } else {
                failure = try verify(changes, planned: candidate?.table ?? IPVSTable(services: actual.services), path: path)
            }
        }

        if options.json {
            session.out(JSON.object([
                ("changed", .bool(!changes.isEmpty && !undone)),
                ("diff", .object([("before", .string(before)), ("after", .string(after))])),
                ("plan", .array(listed.map { PlanDescription.json(summarized($0)) })),
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
                if options.check || session.options.dryRun { for (i, c) in listed.enumerated() { session.out("\(i + 1). \(summarized(c).summary)\n") } }
                if !options.check && failure == nil {
                    session.out("changed: true (\(listed.count) change\(listed.count == 1 ? "" : "s"), \(writes) kernel write\(writes == 1 ? "" : "s"))\n")
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

    /// LVSH_PAUSE_BEFORE_STEP=STEP[:SECONDS] (default 3 s): the executor's test hook (see Executor).
    static func pauseFromEnvironment() -> (step: Int, seconds: UInt32)? {
        guard let raw = getenv("LVSH_PAUSE_BEFORE_STEP") else { return nil }
        let parts = String(cString: raw).split(separator: ":")
        guard let step = parts.first.flatMap({ Int($0) }), step > 0 else { return nil }
        return (step, parts.count > 1 ? UInt32(parts[1]) ?? 3 : 3)
    }

    /// After the writes: reads back the IPVS services the plan touched and compares them with the
    /// plan's after-state. lvsh's lock keeps other lvsh processes out, but not ipvsadm or keepalived:
    /// when one of them changed a service while apply ran, say so (exit 1) rather than report success.
    /// Only the touched services count, so a small change to a large table stays cheap.
    private func verify(_ changes: [PlannedChange], planned: IPVSTable, path: String) throws(LVSError) -> LVSError? {
        var touched: [ServiceKey] = [], seen = Set<ServiceKey>()
        for c in changes {
            if case .ipvs(let op) = c.step, let key = op.serviceKey, seen.insert(key).inserted { touched.append(key) }
        }
        guard !touched.isEmpty else { return nil }
        var want: [ServiceKey: ServiceStatus] = [:]
        for s in planned.services where seen.contains(s.service.key) { want[s.service.key] = s }
        let have = try readBack(touched, planned: planned.services.count,
                                thresholds: Set(want.values.filter { $0.realServers.contains { $0.server.upperThreshold != 0 || $0.server.lowerThreshold != 0 } }.map(\.service.key)))
        for key in touched {
            guard let difference = Self.difference(key, want: want[key], have: have[key]) else { continue }
            return LVSError(.failed, "after applying \(path): \(difference)\n"
                + "Another program changed IPVS while apply ran (lvsh's lock does not stop ipvsadm or keepalived); "
                + "the kernel is left as it is: run `lvsh show diff \(path)` to see the differences, and apply again.")
        }
        return nil
    }

    /// The touched services as the kernel has them now. A service dump and one destination dump per
    /// touched service; when most of the table was touched (a first apply), the listing read instead
    /// (/proc/net/ip_vs holds every destination: one read instead of one dump per service), which
    /// lacks thresholds, so services that have some are read in full.
    private func readBack(_ keys: [ServiceKey], planned: Int, thresholds: Set<ServiceKey>) throws(LVSError) -> [ServiceKey: ServiceStatus] {
        var out: [ServiceKey: ServiceStatus] = [:]
        let wanted = Set(keys)
        guard session.control is LazyIPVSClient || session.control is IPVSClient else {
            // Another IPVSControl (a test's): its whole table.
            for s in try session.control.table(.complete).services where wanted.contains(s.service.key) { out[s.service.key] = s }
            return out
        }
        let client = try IPVSClient()
        if keys.count * 4 > planned {
            for s in try client.table(.listing).services where wanted.contains(s.service.key) { out[s.service.key] = s }
            for key in thresholds where out[key] != nil { out[key]!.realServers = try client.realServers(of: key) }
        } else {
            for (service, stats) in try client.services() where wanted.contains(service.key) {
                out[service.key] = ServiceStatus(service: service, stats: stats, realServers: try client.realServers(of: service.key))
            }
        }
        return out
    }

    /// The first way the kernel's service differs from the planned one, naming the object; nil when equal.
    static func difference(_ key: ServiceKey, want: ServiceStatus?, have: ServiceStatus?) -> String? {
        let name = "service \(PlanDescription.name(key))"
        switch (want, have) {
        case (nil, nil): return nil
        case (nil, .some): return "\(name) exists, but apply deleted it"
        case (.some, nil): return "\(name) is missing, but apply wrote it"
        case (let want?, let have?):
            if want.service != have.service {
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

    private func readActual(sysctls: [String], needIPVS: Bool, groups: [PortGroup]) throws(LVSError) -> ManagedState {
        var s = ManagedState()
        do throws(LVSError) {
            s.services = try session.control.table(.complete).services
            s.daemons = try session.control.daemons()
            s.timeouts = try session.control.timeouts()
        } catch {
            if needIPVS { throw error }
        }
        s.groups = groups
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
