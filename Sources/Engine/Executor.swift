#if canImport(Glibc)
import Glibc
#endif
import Firewall
import IPVS
import LVSModel
import System

/// Where the executor's writes go.
public struct KernelWriters {
    public var ipvs: () throws(LVSError) -> any IPVSControl
    public var marks: () throws(LVSError) -> any MarkBackend
    public var writeSysctl: (String, String) throws(LVSError) -> Void

    public init(ipvs: @escaping () throws(LVSError) -> any IPVSControl,
                marks: @escaping () throws(LVSError) -> any MarkBackend,
                writeSysctl: @escaping (String, String) throws(LVSError) -> Void) {
        self.ipvs = ipvs
        self.marks = marks
        self.writeSysctl = writeSysctl
    }
}

/// What happened when a plan ran.
public struct ExecutionReport: Sendable {
    /// How many of the plan's changes the kernel took (before any undo).
    public var applied = 0
    /// The first failure; nil when the whole plan went through.
    public var failure: LVSError?
    /// The change that failed, when one did.
    public var failedChange: PlannedChange?
    /// What could not be undone after a failure; empty when the kernel is back as it was.
    public var undoFailures: [String] = []
    /// How many kernel writes were made (requests sent), for idempotence checks.
    public var writes = 0
}

/// Runs planned changes in order, consecutive IPVS operations pipelined in one call and consecutive
/// group changes in one firewall transaction. When the kernel refuses a step, the steps already done
/// are undone, newest first, so the kernel ends as it was.
public struct Executor {
    public let writers: KernelWriters
    /// Fault injection for tests: the 1-based index of a change to fail instead of sending it
    /// (the LVSH_FAIL_STEP environment variable sets it in the lvsh executable).
    public var failAtStep: Int?
    /// Test hook to make "in the middle of a plan" reproducible: wait this many seconds before the
    /// 1-based change `step` (the LVSH_PAUSE_BEFORE_STEP=STEP[:SECONDS] environment variable sets it
    /// for `lvsh apply`; see ApplyRunner). The steps before it are sent first, and a line on stderr
    /// says when the pause starts, so a test can change the kernel behind lvsh's back meanwhile.
    public var pauseBeforeStep: (step: Int, seconds: UInt32)?
    /// The language of the messages for IPVS operations the kernel refuses.
    public var wording: any RefusalWording = PlainWording()
    /// Every change this executor has made, across runs, as the runs' slices (a plan of 50,000 changes
    /// is not copied again): a failure undoes them all.
    private var done: [ArraySlice<PlannedChange>] = []
    /// How many IPVS operations go to the kernel per call: bounds the memory a long run needs besides
    /// the plan itself (the client pipelines each call in chunks of its own).
    static let ipvsBatch = 4096
    /// How many changes earlier runs were given, so step numbers count across runs.
    private var offset = 0

    public init(writers: KernelWriters, failAtStep: Int? = nil) {
        self.writers = writers
        self.failAtStep = failAtStep
    }

    public mutating func run(_ changes: [PlannedChange]) -> ExecutionReport {
        var report = ExecutionReport()
        defer { offset += changes.count }
        var start = 0
        // The pause point, as an index into `changes` (nil or out of range: no pause in this run).
        let pauseAt = pauseBeforeStep.map { $0.step - offset - 1 }
        while start < changes.count {
            if start == pauseAt, let pause = pauseBeforeStep {
                StandardStream.write("lvsh: pausing \(pause.seconds) s before step \(pause.step) (LVSH_PAUSE_BEFORE_STEP)\n", to: 2)
                var left = pause.seconds
                while left > 0 { left = sleep(left) }
            }
            var end = start + 1
            // A run of one lane ends before the pause point, so the steps before it reach the kernel first.
            while end < changes.count && changes[end].step.lane == changes[start].step.lane && end != pauseAt { end += 1 }
            var run = changes[start..<end]
            var injected: PlannedChange? = nil
            if let k = failAtStep.map({ $0 - offset }), (start + 1)...end ~= k {
                injected = changes[k - 1]
                run = changes[start..<(k - 1)]
            }
            let (succeeded, failure) = send(run, report: &report)
            if !succeeded.isEmpty { done.append(succeeded) }
            report.applied += succeeded.count
            if let failure {
                report.failure = failure.1
                report.failedChange = failure.0
            } else if let injected {
                report.failure = .failed("fault injected by LVSH_FAIL_STEP=\(offset + start + run.count + 1)")
                report.failedChange = injected
            }
            if report.failure != nil {
                report.undoFailures = undo(done, report: &report)
                done = []
                return report
            }
            start = end
        }
        return report
    }

    /// Sends one lane's run; returns the changes that took effect and the first failure.
    private func send(_ run: ArraySlice<PlannedChange>, report: inout ExecutionReport) -> (ArraySlice<PlannedChange>, (PlannedChange, LVSError)?) {
        guard let first = run.first else { return ([], nil) }
        switch first.step {
        case .ipvs:
            var start = run.startIndex
            while start < run.endIndex {
                let end = min(start + Self.ipvsBatch, run.endIndex)
                let ops = run[start..<end].compactMap { if case .ipvs(let op) = $0.step { op } else { nil } }
                let failed: [(index: Int, errno: Int32)]
                do throws(LVSError) {
                    failed = try writers.ipvs().failures(executing: ops)
                } catch {
                    return (run[..<start], (run[start], error))
                }
                report.writes += ops.count
                if let f = failed.min(by: { $0.index < $1.index }) {
                    // The later operations of a pipelined batch were sent too: those that took effect count.
                    let refused = Set(failed.map { start + $0.index })
                    let ok = run[..<start] + run[start..<end].indices.filter { !refused.contains($0) }.map { run[$0] }
                    // The operation's own explanation: connection-level hints (modprobe ip_vs, CAP_NET_ADMIN) would mislead.
                    let failure = IPVSFailure(operation: ops[f.index], errno: f.errno)
                    return (ok[...], (run[start + f.index], .failed(wording.message(for: failure, table: nil), errno: f.errno)))
                }
                start = end
            }
            return (run, nil)
        case .groups:
            let groupChanges = run.compactMap { if case .groups(let c) = $0.step { c } else { nil } }
            do throws(LVSError) {
                // `apply` lets a backend check entry edits without reading every group.
                _ = try writers.marks().apply(groupChanges)
                report.writes += 1
                return (run, nil)
            } catch {
                return ([], (first, error))
            }
        case .sysctl:
            var ok: [PlannedChange] = []
            for change in run {
                guard case .sysctl(let name, let value) = change.step else { continue }
                do throws(LVSError) {
                    try writers.writeSysctl(name, value)
                    report.writes += 1
                    ok.append(change)
                } catch {
                    return (ok[...], (change, error))
                }
            }
            return (ok[...], nil)
        }
    }

    /// Undoes the given changes newest first; returns what could not be undone.
    private func undo(_ done: [ArraySlice<PlannedChange>], report: inout ExecutionReport) -> [String] {
        let steps = done.reversed().flatMap { $0.reversed().flatMap(\.undo) }
        var problems: [String] = []
        var start = 0
        while start < steps.count {
            var end = start + 1
            while end < steps.count && steps[end].lane == steps[start].lane { end += 1 }
            let run = steps[start..<end].map { PlannedChange(step: $0, undo: [], summary: "undo", location: nil) }[...]
            let (_, failure) = send(run, report: &report)
            if let failure { problems.append(failure.1.message) }
            start = end
        }
        return problems
    }
}
