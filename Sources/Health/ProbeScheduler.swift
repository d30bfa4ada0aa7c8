import NIOCore
import Synchronization

/// Runs every distinct probe on its own interval on one event loop group, and reports each result.
///
/// Each probe lives on one loop of the group (handed out in turn) as a chain of starts in that
/// loop's `LoopTimers`: its next start is its last due time plus its interval, so a run that ends in time does not make it
/// drift; a run that overruns its interval (a timeout as long as the interval) starts again at once,
/// so that a dead server's failures come one timeout apart and not two intervals. Starts fall on a
/// 20 ms grid (`slotNanoseconds`), so that probes share their event loop's turns. First starts
/// are spread over the interval by a hash of the probe, so 10,000 probes added at once do not fire at
/// once. `update` adds and removes probes and changes intervals without touching the others.
public final class ProbeScheduler: Sendable {
    private struct Entry {
        var generation: UInt64
        var interval: UInt32
    }
    private struct State {
        var entries: [ProbeKey: Entry] = [:]
        var nextGeneration: UInt64 = 0
        var stopped = false
    }

    private let group: any EventLoopGroup
    private let runner: any ProbeRunner
    private let wallClock: @Sendable (NIODeadline) -> HealthTime
    private let phase: @Sendable (ProbeKey, UInt32) -> UInt32
    private let report: @Sendable (ProbeReport) -> Void
    private let state = Mutex(State())
    /// How long a loop gathers results before it hands them on (zero: each at once).
    private let gather: TimeAmount
    /// Each loop's gathered results, touched only on that loop.
    private let outboxes = LoopLocal { _ in Outbox() }

    /// Results one event loop gathered; used only on that loop.
    private final class Outbox: @unchecked Sendable {
        var reports: [ProbeReport] = []
        var flushing = false
    }

    /// `report` is called on the probe's event loop after every run. `wallClock` turns the loop's
    /// reading at the end of a run into the result's time (the system's wall clock by default, without
    /// reading it each time); `phase` gives a new probe's first start within its interval, in
    /// milliseconds (a hash of the probe by default).
    /// `gather`: results of one loop within this time are handed on together, which saves a
    /// hand-over (a thread wake-up) per result at a thousand results a second.
    public init(group: any EventLoopGroup, runner: any ProbeRunner,
                wallClock: @escaping @Sendable (NIODeadline) -> HealthTime = HealthTime.wall(at:),
                phase: @escaping @Sendable (ProbeKey, UInt32) -> UInt32 = ProbeScheduler.hashPhase,
                gather: TimeAmount = .zero,
                report: @escaping @Sendable (ProbeReport) -> Void) {
        self.gather = gather
        self.group = group
        self.runner = runner
        self.wallClock = wallClock
        self.phase = phase
        self.report = report
    }

    /// A scheduler whose reports a daemon takes in batches: everything that finished since its last
    /// take, so that a thousand results a second cost one hand-over per take, not one each.
    public static func withBatches(group: any EventLoopGroup, runner: any ProbeRunner,
                                   wallClock: @escaping @Sendable (NIODeadline) -> HealthTime = HealthTime.wall(at:),
                                   phase: @escaping @Sendable (ProbeKey, UInt32) -> UInt32 = ProbeScheduler.hashPhase)
        -> (scheduler: ProbeScheduler, reports: ProbeReportBatches) {
        let batches = ProbeReportBatches()
        let scheduler = ProbeScheduler(group: group, runner: runner, wallClock: wallClock, phase: phase,
                                       gather: .nanoseconds(slotNanoseconds)) { batches.add($0) }
        return (scheduler, batches)
    }

    /// The probes running and their intervals in milliseconds.
    public var probes: [ProbeKey: UInt32] { state.withLock { $0.entries.mapValues(\.interval) } }

    /// Makes the running set `probes` (key → interval in milliseconds): new probes start at their
    /// phase, removed ones stop (a run in flight is not reported), the others keep their schedule,
    /// taking a new interval from their next start on.
    public func update(_ probes: [ProbeKey: UInt32]) {
        var starts: [(ProbeKey, UInt64, any EventLoop, UInt32)] = []
        state.withLock { s in
            guard !s.stopped else { return }
            // A removed probe's pending start finds it gone and does nothing.
            for key in s.entries.keys where probes[key] == nil { s.entries[key] = nil }
            for (key, interval) in probes {
                let interval = max(interval, 1)
                if var entry = s.entries.removeValue(forKey: key) {
                    // Kept under the caller's key: its next start takes that one too, and the old
                    // copy of the key goes (keys share their fields with the plan's).
                    entry.interval = interval
                    s.entries[key] = entry
                    continue
                }
                s.nextGeneration += 1
                let loop = group.next()
                s.entries[key] = Entry(generation: s.nextGeneration, interval: interval)
                starts.append((key, s.nextGeneration, loop, interval))
            }
        }
        for (key, generation, loop, interval) in starts {
            let offset = Int64(phase(key, interval) % interval)
            loop.execute { self.schedule(key, generation: generation, due: Self.slot(loop.now + .milliseconds(offset)), on: loop) }
        }
    }

    /// Stops every probe; runs in flight finish unreported.
    public func stop() {
        state.withLock { s in
            s.stopped = true
            s.entries = [:]
        }
    }

    /// `due` is on the grid (`slot`); called on `loop`.
    private func schedule(_ key: ProbeKey, generation: UInt64, due: NIODeadline, on loop: any EventLoop) {
        LoopTimers.of(loop).scheduleStart(self, key, generation: generation, due: due)
    }

    /// A probe's start, from its loop's timers in their turn that began at `started`.
    func fire(_ key: ProbeKey, generation: UInt64, due: NIODeadline, at started: NIODeadline, on loop: any EventLoop) {
        guard isCurrent(key, generation) else { return }
        runner.run(key, on: loop).whenComplete { outcome in
            guard let (current, interval) = self.state.withLock({ s -> (ProbeKey, UInt32)? in
                guard let i = s.entries.index(forKey: key), s.entries.values[i].generation == generation else { return nil }
                return (s.entries.keys[i], s.entries.values[i].interval)
            }) else { return }
            let verdict = (try? outcome.get()) ?? .failed("the probe could not run")
            let now = LoopTimers.of(loop).now
            let duration = (now - started).nanoseconds
            let result = ProbeResult(ok: verdict.ok, reason: verdict.reason,
                                     milliseconds: UInt32(clamping: duration / 1_000_000),
                                     adjustment: verdict.adjustment, at: self.wallClock(now))
            self.hand(ProbeReport(key: key, result: result, durationNanoseconds: duration,
                                  latenessNanoseconds: max(0, (started - due).nanoseconds)), on: loop)
            let step = TimeAmount.milliseconds(Int64(interval))
            // Overran: start again at once; skipping to the next start would make a timed-out probe
            // (timeout = interval) cost two intervals, and a dead server take twice as long to see.
            // At once is in the slot now running, not the next one: 20 ms more per failure.
            let next = Self.slot(max(due + step, LoopTimers.deadline(of: LoopTimers.slot(atOrBefore: now))))
            self.schedule(current, generation: generation, due: next, on: loop)
        }
    }

    /// Starts fall on a grid of this step of the monotonic clock: probes due within one step start in
    /// one turn of their event loop, whose fixed cost (clock reads, the wait for events) they then
    /// share, and their connections tend to complete together too. Lateness counts from the slot.
    public static let slotNanoseconds: Int64 = 20_000_000

    /// The first slot at or after `deadline`.
    static func slot(_ deadline: NIODeadline) -> NIODeadline {
        LoopTimers.deadline(of: LoopTimers.slot(atOrAfter: deadline))
    }

    /// Hands a result on, at once or with the others its loop gathers within `gather`.
    private func hand(_ r: ProbeReport, on loop: any EventLoop) {
        guard gather > .zero else { return report(r) }
        let box = outboxes(loop)
        box.reports.append(r)
        guard !box.flushing else { return }
        box.flushing = true
        loop.scheduleTask(in: gather) {
            box.flushing = false
            var taken: [ProbeReport] = []
            swap(&taken, &box.reports)
            for r in taken { self.report(r) }
        }
    }

    private func isCurrent(_ key: ProbeKey, _ generation: UInt64) -> Bool {
        state.withLock { $0.entries[key]?.generation == generation }
    }

    /// A stable spread of first starts: FNV-1a of the probe's description, modulo the interval.
    public static let hashPhase: @Sendable (ProbeKey, UInt32) -> UInt32 = { key, interval in
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in key.description.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        return UInt32(hash % UInt64(max(interval, 1)))
    }
}
