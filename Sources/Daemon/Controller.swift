#if canImport(Glibc)
import Glibc
#endif
import Engine
import Health
import NIOCore
import NIOPosix
import LVSModel
import Logging
import Prometheus
import Shell
import System

/// The daemon's one writer: it holds the namespace's writer lock for its whole life, keeps the desired
/// state (its FILE as last read), and makes the kernel match it — at start, on reload and whenever a
/// periodic read finds drift. Every kernel write of the daemon goes through here, one at a time.
public actor Controller {
    /// The thread the controller runs on, at a lower priority (nice 5) than the probes' event loops:
    /// its work (reading and parsing the kernel's table for drift and for scrapes, planning, writing)
    /// comes in bursts of a few hundred milliseconds at 10,000 real servers, and on the shared
    /// threads at the probes' priority each burst made the probes due meanwhile start late.
    private static let thread = NicedThread.loop(nice: 5)
    private nonisolated let loop: any EventLoop = Controller.thread
    public nonisolated var unownedExecutor: UnownedSerialExecutor { loop.executor.asUnownedSerialExecutor() }

    public let file: String
    private let session: Session
    private let logger: Logger
    private let drainSeconds: Int
    /// The state the file describes (desired weights, checks); nil until `start` read it.
    public private(set) var desired: ManagedState?
    /// Held from `start` to the end: nested transactions of this process share it (WriterLock).
    private var lock: WriterLock?
    public private(set) var counters = Counters()
    /// Health: each real server's checks and state, and the effective table they make.
    private var monitor = HealthMonitor()
    /// Runs the probes; `network` is the same runner when it is the real one (whose threads stop with the daemon).
    private let runner: any ProbeRunner
    private let network: NetworkProbeRunner?
    private let scheduler: ProbeScheduler
    /// The probes' results, for `DaemonService` to hand back to `record` a batch at a time.
    public nonisolated let probeReports: ProbeReportBatches
    /// The checked services as the daemon last wrote them to the kernel: a health change is written
    /// as the difference from these, without reading the kernel (a full read per change fell behind
    /// at a thousand checks a second). Set again after every full apply. Kept as weights (4 bytes a
    /// real server), which with the desired services give the services back.
    private var written: [ServiceKey: EffectiveWeights] = [:]

    /// What a front's batch printed and the files it made, gathered for the reply.
    private final class Collected {
        var out = "", err = ""
        var writes: [FileWrite] = []
        var confirmed = false
    }

    /// `apply --confirm N` through the daemon: the desired state before it, restored when no
    /// `confirm` comes within N seconds (Junos's commit confirmed, as without a daemon).
    private struct PendingRollback {
        var previous: ManagedState
        var id: Int
        var timer: Task<Void, Never>
    }
    private var pendingRollback: PendingRollback?
    private var rollbackCount = 0

    /// The Prometheus registry the metrics server emits (kernel series refreshed at each scrape).
    private let metrics = KernelMetrics(registry: PrometheusCollectorRegistry())

    /// The firewall-mark backend the daemon writes through: "nft" or "iptables" (nil when none works).
    public var marksBackend: String? { session.backendName }

    /// Where `metrics listen` says to serve, as the desired state has it now.
    public var metricsListen: ListenAddress? { desired?.health.metricsListen }

    /// A scrape: the kernel read now (on the actor, which owns the netlink socket), then every
    /// series as Prometheus text, set and written off the actor from a snapshot, a part at a time
    /// to `sink` (the reader's pace holds the writing back).
    public func scrape(into sink: @escaping ScrapeSink) async {
        var table = IPVSTable()
        do throws(LVSError) {
            table = try session.control.table(.complete)
        } catch {
            // The daemon's own series still go out; the kernel's are left out rather than made up.
            logger.error("metrics: the kernel could not be read", metadata: ["error": "\(error.message)"])
        }
        let notUp = monitor.downOrDisabled
        var daemon = counters
        daemon.ringSpills = network?.ringSpills ?? 0
        await metrics.series.write(table: table, desired: desired, up: { !notUp.contains($0) },
                                   daemon: daemon, failures: metrics.failures, own: metrics.registry, to: sink)
    }

    /// A scrape's text whole, in one buffer.
    public func scrape() async -> ByteBuffer {
        let whole = Gathered()
        await scrape(into: whole.add)
        return whole.buffer.withLock { $0 }
    }

    /// Where fronts reach the daemon: the control socket in the namespace's runtime folder.
    public func controlSocketPath() throws(LVSError) -> String {
        guard let dir = try session.runtime() else { throw .failed("lvsh daemon needs its runtime folder /run/lvsh") }
        return ControlClient.socketPath(dir)
    }

    /// What the daemon has done, for logs and metrics.
    public struct Counters: Sendable {
        public var reconcileRuns = 0
        public var driftCorrected = 0
        public var driftSeen = 0
        public var reloads = 0
        public var reloadFailures = 0
        public var lastReloadSuccess: Int = 0
        public var writes = 0
        /// Probes that took a socket channel because every io_uring slot was busy (NetworkProbeRunner).
        public var ringSpills = 0
    }

    /// `runner` runs the probes: the network's by default; tests pass one of their own.
    public init(file: String, session: sending Session, logger: Logger, drainSeconds: Int = 30, runner: (any ProbeRunner)? = nil) {
        self.file = file
        self.session = session
        self.logger = logger
        self.drainSeconds = drainSeconds
        network = runner == nil ? NetworkProbeRunner() : nil
        self.runner = runner ?? network!
        (scheduler, probeReports) = ProbeScheduler.withBatches(group: MultiThreadedEventLoopGroup.singleton, runner: self.runner)
    }

    /// Takes the lock (or says which daemon has it), reads the file and makes the kernel match it.
    /// A restart over a kernel that already matches makes no write.
    public func start() throws(LVSError) {
        guard let dir = try session.runtime() else { throw .failed("lvsh daemon needs its runtime folder /run/lvsh") }
        do {
            lock = try WriterLock(dir, wait: false)
        } catch {
            if let pid = dir.runningDaemon() {
                throw .failed("lvsh daemon (pid \(pid)) already runs in this network namespace; one daemon per namespace")
            }
            throw .failed("another lvsh is changing this network namespace; start the daemon when it is done (\(error.message))")
        }
        try DaemonMarker.write(in: dir)
        let (state, warnings) = try read()
        for w in warnings { logger.warning("\(w)") }
        // Real servers the kernel has keep their weight until their first result (a healthy restart
        // writes nothing); those the daemon adds wait for `rise` successes (alpha).
        let kernel = (try? session.control.table(.complete).services) ?? []
        monitor = try reconfigured(state, adopting: kernel)
        desired = state
        let report = try ApplyRunner(session: session, options: ApplyOptions()).apply(effective(state), label: file)
        log(report, what: "start")
        record(report, front: "daemon-start", source: file, state: state)
        if let failure = report.failure { throw failure }
        rememberWritten()
        scheduler.update(monitor.probes)
        // The file's text, the plan and the kernel's replies of a first apply are gone.
        Heap.trim()
        if !state.health.checks.isEmpty {
            logger.notice("health: \(monitor.probes.count) probe\(monitor.probes.count == 1 ? "" : "s") for \(state.health.checks.count) check\(state.health.checks.count == 1 ? "" : "s")")
        }
    }

    /// The health monitor for a new desired state, or why its checks cannot run (a check without a
    /// port to probe). The running monitor is untouched until the caller takes the result.
    /// `kernel`: what the kernel holds at start; later the monitor knows, or the desired state says.
    private func reconfigured(_ state: ManagedState, adopting kernel: [ServiceStatus]? = nil) throws(LVSError) -> HealthMonitor {
        // Without checks, maintenance or policies the kernel holds the written weights and the monitor
        // is not consulted (`effective`), so it stays empty: building it was a third of a reload of
        // 10,000 services. When health comes later, the real servers the daemon already wrote are
        // adopted with their weights, as at start, rather than added (alpha would take them out).
        guard state.health.actsOnWeights else { return HealthMonitor() }
        var next = monitor
        let adopting = kernel ?? (next.services.isEmpty ? desired?.services ?? [] : [])
        next.reconfigure(services: state.services, config: state.health, groupPorts: Self.groupPorts(state),
                         adopting: adopting, at: .now())
        if let error = next.plan.errors.first { throw .badInput("\(error)") }
        return next
    }

    /// For each group's mark, its port ranges: where a fwmark service's checks find their port.
    static func groupPorts(_ state: ManagedState) -> [UInt32: [ClosedRange<UInt16>]] {
        Dictionary(state.groups.map { ($0.mark, $0.entries.map(\.ports)) }, uniquingKeysWith: { a, _ in a })
    }

    /// What the kernel should hold: the desired state with health's weights, removals and sorry servers.
    private func effective(_ state: ManagedState) -> ManagedState {
        guard state.health.actsOnWeights else { return state }
        var e = state
        e.services = monitor.effectiveServices()
        return e
    }

    /// The probes' results since the last batch: the state machine decides, transitions are logged,
    /// and the services whose effective real servers changed are written once for the whole batch.
    public func record(_ reports: [ProbeReport]) {
        var changed = Set<ServiceKey>()
        for report in reports { changed.formUnion(record(report)) }
        writeHealth(changed)
    }

    /// One result: its transitions logged, the services it changed returned.
    private func record(_ report: ProbeReport) -> Set<ServiceKey> {
        let changes = monitor.record(report)
        metrics.record(report)
        for t in changes.reals {
            let name = "\(PlanDescription.name(t.ref.service)) \(Self.endpoint(t.ref.real))"
            let level: Logger.Level = t.to == .down ? .warning : .notice
            logger.log(level: level, "health: real server \(name) is \(t.to.rawValue)\(t.from.map { " (was \($0.rawValue))" } ?? ""): \(t.reason)")
        }
        for q in changes.quorum {
            logger.log(level: q.lost ? .warning : .notice,
                       "health: \(PlanDescription.name(q.service)) \(q.lost ? "lost" : "regained") quorum (live weight \(q.weightSum), threshold \(q.threshold))\(q.sorryServer.map { q.lost ? "; sorry server \(Self.endpoint($0)) takes the traffic" : "; sorry server \(Self.endpoint($0)) leaves" } ?? "")")
        }
        return changes.services
    }

    /// Writes the changed services' new effective real servers as the difference from what the
    /// daemon last wrote: in the usual case one weight edit per real server that went up or down.
    /// When the kernel refuses (someone deleted the service meanwhile), the whole effective table is
    /// applied after a full read, as a reconcile would.
    private func writeHealth(_ services: Set<ServiceKey>) {
        guard !services.isEmpty, let desired else { return }
        var from = ManagedState(), to = ManagedState()
        var nowWeights: [ServiceKey: EffectiveWeights] = [:]
        var complete = true
        for key in services {
            guard let weights = monitor.effectiveWeights(key), let now = monitor.effectiveService(key, weights: weights) else { continue }
            guard let before = written[key].flatMap({ monitor.effectiveService(key, weights: $0) }) else { complete = false; break }
            from.services.append(before)
            to.services.append(now)
            nowWeights[key] = weights
        }
        if complete {
            let plan = StatePlanner.plan(from: from, to: to, prune: false)
            let operations = plan.ipvsFirst + plan.realDeletes.map { IPVSOperation.deleteRealServer($0.0, $0.1.identity) }
            guard !operations.isEmpty else { return }
            do throws(LVSError) {
                let failures = try session.control.execute(operations)
                counters.writes += operations.count
                let runner = ApplyRunner(session: session, options: ApplyOptions())
                guard let refused = failures.firstIndex(where: { $0 != nil }) else {
                    for op in operations { logger.info("health: \(runner.summary(of: op))") }
                    written.merge(nowWeights) { _, new in new }
                    return
                }
                logger.warning("health: the kernel refused to \(runner.summary(of: operations[refused])) (\(String(cString: strerror(failures[refused]!.errno)))); applying the whole effective table")
            } catch {
                logger.warning("health: the kernel refused the changes (\(error.message)); applying the whole effective table")
            }
        }
        do throws(LVSError) {
            let report = try ApplyRunner(session: session, options: ApplyOptions()).apply(effective(desired), label: "health")
            log(report, what: "health", target: "the effective table")
            if report.failure == nil { rememberWritten() }
        } catch {
            logger.error("health: the kernel refused the effective table", metadata: ["error": "\(error.message)"])
        }
    }

    /// After a full apply: the checked services as the kernel now has them.
    private func rememberWritten() {
        written = [:]
        let plan = monitor.plan
        var last = -1
        for binding in plan.all {
            let index = plan.service(ofReal: Int(binding.real))
            guard index != last else { continue }
            last = index
            let service = plan.services[index].service.key
            if written[service] == nil { written[service] = monitor.effectiveWeights(service) }
        }
    }

    /// Every checked (or disabled) real server's health, for `show health`.
    public func healthStatus() -> [RealHealthStatus] {
        guard let desired else { return [] }
        let groupNames = Dictionary(desired.groups.map { ($0.mark, $0.name) }, uniquingKeysWith: { a, _ in a })
        return monitor.reports().compactMap { r -> RealHealthStatus? in
            guard !r.checks.isEmpty || r.state == .disabled else { return nil }
            var group: String? = nil
            if case .fwmark(let m, _) = r.ref.service { group = groupNames[m] }
            let state = RealHealthStatus.State(rawValue: r.state.rawValue) ?? .unknown
            return RealHealthStatus(ref: r.ref, group: group, checks: r.checks.map(\.name), state: state, weight: r.weight,
                                    desiredWeight: r.desiredWeight, since: r.since.milliseconds / 1000,
                                    last: r.last.map { .init(ok: $0.ok, milliseconds: $0.milliseconds, reason: $0.reason) })
        }
    }

    static func endpoint(_ r: RealServerKey) -> String { PlanDescription.endpoint(r.address, r.port) }

    /// A front's batch (console, `-c`, `-f`, `apply`, ipvsadm lines): run against the desired state as
    /// if it were the kernel, so that the same refusals apply; what it commits becomes the desired
    /// state and goes to the kernel. When the kernel refuses, the desired state stays as it was.
    public func handle(_ request: ControlRequest) -> ControlReply {
        guard let before = desired else {
            return ControlReply(code: LVSError.Code.failed.rawValue, err: "lvsh daemon is still starting; try again\n")
        }
        // The rollback timer is the daemon's: the batch itself runs without one.
        var request = request
        let confirmSeconds = request.confirm
        request.confirm = nil
        let info = (try? session.control.info()) ?? IPVSInfo(version: 0, connectionTableSize: 0)
        let model = DesiredKernel(before, info: info, backendName: "desired")
        let collected = Collected()
        var options = request.options(over: session.options)
        // `save` with no FILE writes the daemon's FILE (DESIGN.md).
        options.bootConfigPath = file
        let front = Session(options: options, control: model, backend: model,
                            out: { collected.out += $0 }, err: { collected.err += $0 },
                            readSysctl: model.readSysctl, writeSysctl: model.writeSysctl, runtime: { () throws(LVSError) in nil })
        front.health = before.health
        let status = healthStatus()
        front.healthStatus = { status }
        front.files = request.files
        front.writeFile = { (w: FileWrite) throws(LVSError) in collected.writes.append(w) }
        let pending = pendingRollback != nil
        front.confirmPending = {
            guard pending else { return "nothing to confirm: no apply --confirm is pending here\n" }
            collected.confirmed = true
            return "confirmed: the applied state stays\n"
        }
        let code = front.runBatch(request.text, name: request.name)
        var reply = ControlReply(code: code, out: collected.out, err: collected.err, writes: collected.writes)
        if collected.confirmed, let p = pendingRollback {
            p.timer.cancel()
            pendingRollback = nil
            logger.notice("confirm: the state applied with --confirm stays")
        }
        guard code == 0, !request.dryRun, !request.check else { return reply }
        let after = model.state(health: front.health ?? before.health, before: before)
        var applyOptions = ApplyOptions()
        applyOptions.leaving = Leaving(from: before, to: after)
        let previous = monitor
        let (frontName, source) = ChangeHistory.front(ofBatch: request.name, text: request.text)
        do throws(LVSError) {
            monitor = try reconfigured(after)
            let report = try ApplyRunner(session: session, options: applyOptions).apply(effective(after), label: "the batch from \(request.name)")
            record(report, front: "daemon/" + frontName, source: source, state: after, user: request.user, tty: request.tty)
            if let failure = report.failure {
                reply.code = failure.code.rawValue
                reply.err += failure.message + "\n"
                logger.error("a front's batch failed in the kernel; the desired state stays", metadata: ["error": "\(failure.message)"])
                monitor = previous
                return reply
            }
            desired = after
            rememberWritten()
            scheduler.update(monitor.probes)
            log(report, what: "batch from \(request.name)", target: "the desired state")
            if let seconds = confirmSeconds, !report.plan.isEmpty { armRollback(to: before, seconds: seconds, reply: &reply) }
        } catch {
            monitor = previous
            reply.code = error.code.rawValue
            reply.err += error.message + "\n"
        }
        return reply
    }

    /// Keeps `previous` to restore in `seconds` unless `confirm` comes first; an earlier pending
    /// rollback keeps its older state (the one before the first unconfirmed apply) and its timer.
    private func armRollback(to previous: ManagedState, seconds: Int, reply: inout ControlReply) {
        if pendingRollback == nil {
            rollbackCount += 1
            let id = rollbackCount
            let timer = Task { [weak self] in
                try? await Task.sleep(for: .seconds(seconds))
                guard !Task.isCancelled else { return }
                await self?.rollBack(id)
            }
            pendingRollback = PendingRollback(previous: previous, id: id, timer: timer)
        }
        reply.err += "lvsh daemon restores the previous state in \(seconds) s unless `lvsh confirm` comes first\n"
        logger.notice("apply --confirm \(seconds): the previous state comes back unless confirmed")
    }

    /// The confirm timer ran out: the desired state before the unconfirmed apply goes back to the
    /// kernel (pruning what the apply added), and becomes the desired state again.
    private func rollBack(_ id: Int) {
        guard let pending = pendingRollback, pending.id == id else { return }
        pendingRollback = nil
        logger.warning("no `lvsh confirm` in time: restoring the state from before the apply")
        var options = ApplyOptions()
        options.prune = true
        let previous = monitor
        do throws(LVSError) {
            monitor = try reconfigured(pending.previous)
            let report = try ApplyRunner(session: session, options: options).apply(effective(pending.previous), label: "the state before the unconfirmed apply")
            log(report, what: "rollback", target: "the state before the unconfirmed apply")
            record(report, front: "confirm-rollback", source: "the state before the unconfirmed apply", state: pending.previous)
            if report.failure != nil {
                monitor = previous
                return
            }
            desired = pending.previous
            rememberWritten()
            scheduler.update(monitor.probes)
        } catch {
            monitor = previous
            logger.error("rollback failed", metadata: ["error": "\(error.message)"])
        }
    }

    /// The end of a graceful stop: the kernel stays as it is; only the pid file goes.
    public func stop() {
        scheduler.stop()
        if let dir = try? session.runtime(), dir.runningDaemon() == getpid() { unlink(dir.daemonPath) }
        lock = nil
    }

    /// The probes' threads, once nothing will run another probe.
    public func shutdownProbes() async {
        try? await network?.shutdown()
    }

    /// SIGHUP: reads the file again and applies the difference; real servers that leave are drained
    /// first. A file that does not read keeps the running state (and says why).
    @discardableResult
    public func reload() -> Bool {
        defer { Heap.trim() }
        let clock = ContinuousClock()
        let start = clock.now
        counters.reloads += 1
        let state: ManagedState
        do throws(LVSError) {
            let (s, warnings) = try read()
            for w in warnings { logger.warning("\(w)") }
            state = s
        } catch {
            counters.reloadFailures += 1
            logger.error("reload refused: \(file) does not read; the running configuration stays", metadata: ["error": "\(error.message)"])
            return false
        }
        let reading = clock.now - start
        var options = ApplyOptions()
        options.drain = drainSeconds
        let previous = monitor
        // What the daemon last made the kernel hold: the reload diffs from it without reading the
        // table; should the kernel differ (drift not yet repaired), a write fails, nothing stays
        // applied, and the reload reads the kernel after all.
        options.assumedServices = desired.map { effective($0).services }
        // A service or group the file no longer has goes (after its real servers drained).
        if let desired { options.leaving = Leaving(from: desired, to: state) }
        do throws(LVSError) {
            monitor = try reconfigured(state)
            var report = try ApplyRunner(session: session, options: options).apply(effective(state), label: file)
            if report.failure != nil && options.assumedServices != nil {
                logger.notice("reload: the kernel differs from what the daemon wrote; reading it")
                options.assumedServices = nil
                report = try ApplyRunner(session: session, options: options).apply(effective(state), label: file)
            }
            if report.failure != nil { monitor = previous } else { desired = state; rememberWritten() }
            scheduler.update(monitor.probes)
            log(report, what: "reload", took: clock.now - start, reading: reading)
            record(report, front: "daemon-reload", source: file, state: state)
            if report.failure != nil {
                counters.reloadFailures += 1
                return false
            }
            counters.lastReloadSuccess = Int(time(nil))
            return true
        } catch {
            monitor = previous
            counters.reloadFailures += 1
            logger.error("reload failed", metadata: ["error": "\(error.message)"])
            return false
        }
    }

    /// Says when probes spilled from the io_uring connector into socket channels since the last time:
    /// the probes' loop has fallen behind, and the channels cost it more.
    private func noteSpills() {
        guard let spills = network?.ringSpills, spills > counters.ringSpills else { return }
        logger.warning("health: \(spills - counters.ringSpills) probes found every io_uring slot busy and took a socket channel (the probes' loop is behind)",
                       metadata: ["total": "\(spills)"])
        counters.ringSpills = spills
    }

    /// One periodic read: what differs from the desired state is drift made by another program. It is
    /// logged, and restored unless the configuration says `set reconcile log`. Returns how long the
    /// read and repair took, without the time spent waiting for the actor.
    @discardableResult
    public func reconcile() -> Duration {
        let clock = ContinuousClock()
        let start = clock.now
        reconcileOnce()
        return clock.now - start
    }

    private func reconcileOnce() {
        noteSpills()
        guard let desired else { return }
        counters.reconcileRuns += 1
        var options = ApplyOptions()
        let repair = desired.health.reconcile == .repair
        options.check = !repair
        do throws(LVSError) {
            let runner = ApplyRunner(session: session, options: options)
            let report = try runner.apply(effective(desired), label: file)
            guard !report.plan.isEmpty else { return }
            counters.driftSeen += report.plan.count
            for step in report.plan {
                logger.warning("drift: \(repair ? "restoring" : "found (set reconcile log: left as it is)"): \(runner.summary(of: step))")
            }
            if repair && report.failure == nil {
                rememberWritten()
                counters.driftCorrected += report.plan.count
                counters.writes += report.writes
                logger.notice("drift repaired", metadata: ["changes": "\(report.plan.count)", "writes": "\(report.writes)"])
            }
            if let failure = report.failure { logger.error("drift repair failed", metadata: ["error": "\(failure.message)"]) }
        } catch {
            logger.error("reconcile read failed", metadata: ["error": "\(error.message)"])
        }
    }

    /// A committed (or failed) change of the desired state in the archive and the log: the daemon
    /// records what it commits, with the front's user and terminal for a front's batch.
    private func record(_ report: ApplyReport, front: String, source: String, state: ManagedState,
                        user: String? = nil, tty: String? = nil) {
        guard let history = session.history, !report.plan.isEmpty else { return }
        let runner = ApplyRunner(session: session, options: ApplyOptions())
        var r = ChangeHistory.record(front: front, source: source, steps: report.plan.map { runner.summary(of: $0) },
                                     user: user.flatMap { $0.isEmpty ? nil : $0 }, tty: tty.flatMap { $0.isEmpty ? nil : $0 })
        if let failure = report.failure { r.result = "failed: " + failure.message }
        let logger = self.logger
        history.record(r, changes: report.plan.count, config: { () throws(LVSError) in try self.configText(state) },
                       warn: { logger.warning("\($0.hasSuffix("\n") ? String($0.dropLast()) : $0)") })
    }

    /// `show running-config`'s text of a desired state, as a front sees it through the daemon.
    private func configText(_ state: ManagedState) throws(LVSError) -> String {
        let info = (try? session.control.info()) ?? IPVSInfo(version: 0, connectionTableSize: 0)
        let model = DesiredKernel(state, info: info, backendName: "desired")
        let view = Session(options: session.options, control: model, backend: model, out: { _ in }, err: { _ in },
                           readSysctl: model.readSysctl, writeSysctl: model.writeSysctl, runtime: { () throws(LVSError) in nil })
        view.health = state.health
        return try view.runningConfig()
    }

    private func read() throws(LVSError) -> (ManagedState, [String]) {
        let text = try Session.readInput(file)
        return try ApplyRunner(session: session, options: ApplyOptions()).evaluate(text, file: file)
    }

    /// `took`: how long the change took from its start to its last write, logged with it; `reading`:
    /// how much of that reading and checking the file took (the rest is planning and writing).
    private func log(_ report: ApplyReport, what: String, target: String? = nil, took: Duration? = nil, reading: Duration? = nil) {
        let file = target ?? self.file
        for w in report.warnings { logger.warning("\(w)") }
        counters.writes += report.writes
        if report.plan.isEmpty {
            logger.info("\(what): the kernel already matches \(file)", metadata: ["writes": "0"])
        } else {
            let runner = ApplyRunner(session: session, options: ApplyOptions())
            for step in report.plan { logger.info("\(what): \(runner.summary(of: step))") }
            var metadata: Logger.Metadata = ["changes": "\(report.plan.count)", "writes": "\(report.writes)"]
            if let took { metadata["seconds"] = "\(SecondsText.text(took))" }
            if let reading { metadata["read_seconds"] = "\(SecondsText.text(reading))" }
            logger.notice("\(what): applied \(file)", metadata: metadata)
        }
        if let failure = report.failure { logger.error("\(what) failed", metadata: ["error": "\(failure.message)"]) }
    }
}
