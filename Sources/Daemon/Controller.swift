#if canImport(Glibc)
import Glibc
#endif
import Engine
import LVSModel
import Logging
import Prometheus
import Shell
import System

/// The daemon's one writer: it holds the namespace's writer lock for its whole life, keeps the desired
/// state (its FILE as last read), and makes the kernel match it — at start, on reload and whenever a
/// periodic read finds drift. Every kernel write of the daemon goes through here, one at a time.
public actor Controller {
    public let file: String
    private let session: Session
    private let logger: Logger
    private let drainSeconds: Int
    /// The state the file describes (desired weights, checks); nil until `start` read it.
    public private(set) var desired: ManagedState?
    /// Held from `start` to the end: nested transactions of this process share it (WriterLock).
    private var lock: WriterLock?
    public private(set) var counters = Counters()

    /// What a front's batch printed and the files it made, gathered for the reply.
    private final class Collected {
        var out = "", err = ""
        var writes: [FileWrite] = []
    }

    /// The Prometheus registry the metrics server emits (kernel series refreshed at each scrape).
    private let metrics = KernelMetrics(registry: PrometheusCollectorRegistry())

    /// Where `metrics listen` says to serve, as the desired state has it now.
    public var metricsListen: ListenAddress? { desired?.health.metricsListen }

    /// A scrape: the kernel read now, then every series as Prometheus text.
    public func scrape() -> [UInt8] {
        var table = IPVSTable()
        do throws(LVSError) {
            table = try session.control.table(.complete)
        } catch {
            // The daemon's own series still go out; the kernel's are left out rather than made up.
            logger.error("metrics: the kernel could not be read", metadata: ["error": "\(error.message)"])
        }
        metrics.refresh(table: table, desired: desired, up: { _ in true }, daemon: counters)
        return metrics.text()
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
    }

    public init(file: String, session: sending Session, logger: Logger, drainSeconds: Int = 30) {
        self.file = file
        self.session = session
        self.logger = logger
        self.drainSeconds = drainSeconds
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
        desired = state
        let report = try ApplyRunner(session: quiet, options: ApplyOptions()).apply(state, label: file)
        log(report, what: "start")
        if let failure = report.failure { throw failure }
    }

    /// A front's batch (console, `-c`, `-f`, `apply`, ipvsadm lines): run against the desired state as
    /// if it were the kernel, so that the same refusals apply; what it commits becomes the desired
    /// state and goes to the kernel. When the kernel refuses, the desired state stays as it was.
    public func handle(_ request: ControlRequest) -> ControlReply {
        guard let before = desired else {
            return ControlReply(code: LVSError.Code.failed.rawValue, err: "lvsh daemon is still starting; try again\n")
        }
        if request.confirm != nil {
            // The rollback timer would have to live in the daemon (DESIGN.md); until it does, say so.
            return ControlReply(code: LVSError.Code.badInput.rawValue,
                                err: "apply --confirm is not available while lvsh daemon runs; apply without it (the daemon keeps the previous state in its file until you save)\n")
        }
        let info = (try? session.control.info()) ?? IPVSInfo(version: 0, connectionTableSize: 0)
        let model = DesiredKernel(before, info: info, backendName: "desired")
        let collected = Collected()
        let front = Session(options: request.options(over: session.options), control: model, backend: model,
                            out: { collected.out += $0 }, err: { collected.err += $0 },
                            readSysctl: model.readSysctl, writeSysctl: model.writeSysctl, runtime: { () throws(LVSError) in nil })
        front.health = before.health
        front.files = request.files
        front.writeFile = { (w: FileWrite) throws(LVSError) in collected.writes.append(w) }
        let code = front.runBatch(request.text, name: request.name)
        var reply = ControlReply(code: code, out: collected.out, err: collected.err, writes: collected.writes)
        guard code == 0, !request.dryRun, !request.check else { return reply }
        let after = model.state(health: front.health ?? before.health, before: before)
        var options = ApplyOptions()
        options.leaving = Leaving(from: before, to: after)
        do throws(LVSError) {
            let report = try ApplyRunner(session: session, options: options).apply(after, label: "the batch from \(request.name)")
            if let failure = report.failure {
                reply.code = failure.code.rawValue
                reply.err += failure.message + "\n"
                logger.error("a front's batch failed in the kernel; the desired state stays", metadata: ["error": "\(failure.message)"])
                return reply
            }
            desired = after
            log(report, what: "batch from \(request.name)", target: "the desired state")
        } catch {
            reply.code = error.code.rawValue
            reply.err += error.message + "\n"
        }
        return reply
    }

    /// The end of a graceful stop: the kernel stays as it is; only the pid file goes.
    public func stop() {
        if let dir = try? session.runtime(), dir.runningDaemon() == getpid() { unlink(dir.daemonPath) }
        lock = nil
    }

    /// SIGHUP: reads the file again and applies the difference; real servers that leave are drained
    /// first. A file that does not read keeps the running state (and says why).
    @discardableResult
    public func reload() -> Bool {
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
        var options = ApplyOptions()
        options.drain = drainSeconds
        do throws(LVSError) {
            let report = try ApplyRunner(session: quiet, options: options).apply(state, label: file)
            desired = state
            log(report, what: "reload")
            if report.failure != nil {
                counters.reloadFailures += 1
                return false
            }
            counters.lastReloadSuccess = Int(time(nil))
            return true
        } catch {
            counters.reloadFailures += 1
            logger.error("reload failed", metadata: ["error": "\(error.message)"])
            return false
        }
    }

    /// One periodic read: what differs from the desired state is drift made by another program. It is
    /// logged, and restored unless the configuration says `set reconcile log`.
    public func reconcile() {
        guard let desired else { return }
        counters.reconcileRuns += 1
        var options = ApplyOptions()
        let repair = desired.health.reconcile == .repair
        options.check = !repair
        do throws(LVSError) {
            let runner = ApplyRunner(session: quiet, options: options)
            let report = try runner.apply(desired, label: file)
            guard !report.plan.isEmpty else { return }
            counters.driftSeen += report.plan.count
            for step in report.plan {
                logger.warning("drift: \(repair ? "restoring" : "found (set reconcile log: left as it is)"): \(runner.summary(of: step))")
            }
            if repair && report.failure == nil {
                counters.driftCorrected += report.plan.count
                counters.writes += report.writes
                logger.notice("drift repaired", metadata: ["changes": "\(report.plan.count)", "writes": "\(report.writes)"])
            }
            if let failure = report.failure { logger.error("drift repair failed", metadata: ["error": "\(failure.message)"]) }
        } catch {
            logger.error("reconcile read failed", metadata: ["error": "\(error.message)"])
        }
    }

    private func read() throws(LVSError) -> (ManagedState, [String]) {
        let text = try Session.readInput(file)
        return try ApplyRunner(session: quiet, options: ApplyOptions()).evaluate(text, file: file)
    }

    /// The engine's own output goes to the log, not to the terminal.
    private var quiet: Session { session }

    private func log(_ report: ApplyReport, what: String, target: String? = nil) {
        let file = target ?? self.file
        for w in report.warnings { logger.warning("\(w)") }
        counters.writes += report.writes
        if report.plan.isEmpty {
            logger.info("\(what): the kernel already matches \(file)", metadata: ["writes": "0"])
        } else {
            let runner = ApplyRunner(session: quiet, options: ApplyOptions())
            for step in report.plan { logger.info("\(what): \(runner.summary(of: step))") }
            logger.notice("\(what): applied \(file)", metadata: ["changes": "\(report.plan.count)", "writes": "\(report.writes)"])
        }
        if let failure = report.failure { logger.error("\(what) failed", metadata: ["error": "\(failure.message)"]) }
    }
}
