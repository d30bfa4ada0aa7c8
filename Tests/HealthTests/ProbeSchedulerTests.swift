import Dispatch
import Glibc
import Health
import LVSModel
import NIOConcurrencyHelpers
import NIOCore
import NIOEmbedded
import Testing

/// A runner that answers after `delay` of the loop's (virtual) time, and counts its runs.
final class FakeRunner: ProbeRunner {
    let delay: TimeAmount
    let verdict: @Sendable (ProbeKey) -> ProbeVerdict
    let runs = NIOLockedValueBox<[ProbeKey: Int]>([:])

    init(delay: TimeAmount = .milliseconds(5), verdict: @escaping @Sendable (ProbeKey) -> ProbeVerdict = { _ in .passed("ok") }) {
        self.delay = delay
        self.verdict = verdict
    }

    func run(_ key: ProbeKey, on loop: any EventLoop) -> EventLoopFuture<ProbeVerdict> {
        runs.withLockedValue { $0[key, default: 0] += 1 }
        let verdict = self.verdict
        return loop.scheduleTask(in: delay) { verdict(key) }.futureResult
    }

    func count(_ key: ProbeKey) -> Int { runs.withLockedValue { $0[key] ?? 0 } }
}

@Suite("ProbeScheduler on a virtual clock")
struct ProbeSchedulerTests {
    func key(_ n: Int) -> ProbeKey { ProbeKey(probe: .tcp, address: IPAddress("10.0.1.\(n)"), port: 80, timeoutMilliseconds: 1000) }

    func scheduler(_ loop: EmbeddedEventLoop, _ runner: FakeRunner,
                   phase: @escaping @Sendable (ProbeKey, UInt32) -> UInt32 = { _, _ in 0 })
        -> (ProbeScheduler, NIOLockedValueBox<[ProbeReport]>) {
        let reports = NIOLockedValueBox<[ProbeReport]>([])
        let clock: @Sendable (NIODeadline) -> HealthTime = { HealthTime(milliseconds: Int64($0.uptimeNanoseconds / 1_000_000)) }
        let s = ProbeScheduler(group: loop, runner: runner, wallClock: clock, phase: phase) { r in reports.withLockedValue { $0.append(r) } }
        return (s, reports)
    }

    @Test func runsEachProbeOnItsIntervalFromItsPhase() {
        let loop = EmbeddedEventLoop()
        let runner = FakeRunner()
        let (s, reports) = scheduler(loop, runner) { key, _ in key == self.key(1) ? 0 : 300 }
        s.update([key(1): 1000, key(2): 500])
        loop.run()
        loop.advanceTime(by: .milliseconds(2005))
        // key 1 at 0, 1000, 2000; key 2 at 300, 800, 1300, 1800.
        #expect(runner.count(key(1)) == 3)
        #expect(runner.count(key(2)) == 4)
        let all = reports.withLockedValue { $0 }
        #expect(all.count == 7)
        #expect(all.allSatisfy { $0.durationNanoseconds == 5_000_000 && $0.latenessNanoseconds == 0 && $0.result.milliseconds == 5 })
        #expect(all.first { $0.key == key(2) }?.result.at == HealthTime(milliseconds: Int64(loop.now.uptimeNanoseconds / 1_000_000) - 2005 + 305))
    }

    @Test func anOverrunningProbeStartsAgainAtOnce() {
        let loop = EmbeddedEventLoop()
        let runner = FakeRunner(delay: .milliseconds(2500))
        let (s, reports) = scheduler(loop, runner)
        s.update([key(1): 1000])
        loop.run()
        loop.advanceTime(by: .milliseconds(2500))
        // Due at 1000 and 2000 passed during the run: the next starts when it ends, not at 3000, so
        // that a probe that times out (timeout = interval) runs once per timeout.
        #expect(runner.count(key(1)) == 2)
        #expect(reports.withLockedValue { $0.count } == 1)
        #expect(reports.withLockedValue { $0[0].latenessNanoseconds } == 0)
        loop.advanceTime(by: .milliseconds(2500))
        #expect(runner.count(key(1)) == 3)
        let all = reports.withLockedValue { $0 }
        #expect(all.count == 2 && all[1].latenessNanoseconds == 0)
    }

    /// A dead server's failures come one timeout apart: a run that ends 5 ms into the slot of its
    /// next due time starts again in that slot, not 15 ms later in the next one.
    @Test func anOverrunStartsAgainInTheSlotNowRunning() {
        let loop = EmbeddedEventLoop()
        let runner = FakeRunner(delay: .milliseconds(1005))
        let (s, reports) = scheduler(loop, runner)
        s.update([key(1): 1000])
        loop.run()
        loop.advanceTime(by: .milliseconds(1005))
        loop.run()
        #expect(runner.count(key(1)) == 2)
        loop.advanceTime(by: .milliseconds(1005))
        loop.run()
        #expect(runner.count(key(1)) == 3)
        #expect(reports.withLockedValue { $0.allSatisfy { $0.latenessNanoseconds < ProbeScheduler.slotNanoseconds } })
    }

    @Test func aProbeThatEndsInTimeKeepsItsPhase() {
        let loop = EmbeddedEventLoop()
        let runner = FakeRunner(delay: .milliseconds(900))
        let (s, _) = scheduler(loop, runner)
        s.update([key(1): 1000])
        loop.run()
        loop.advanceTime(by: .milliseconds(999))
        #expect(runner.count(key(1)) == 1)
        loop.advanceTime(by: .milliseconds(1))
        #expect(runner.count(key(1)) == 2)
        loop.advanceTime(by: .milliseconds(1000))
        #expect(runner.count(key(1)) == 3)
    }

    @Test func batchesGatherWhatFinishedSinceTheLastTake() async {
        let loop = EmbeddedEventLoop()
        let runner = FakeRunner()
        let (s, batches) = ProbeScheduler.withBatches(group: loop, runner: runner,
                                                              wallClock: { HealthTime(milliseconds: Int64($0.uptimeNanoseconds / 1_000_000)) },
                                                              phase: { _, _ in 0 })
        s.update([key(1): 100, key(2): 100, key(3): 100])
        loop.run()
        loop.advanceTime(by: .milliseconds(350))
        // 3 probes × 4 runs, taken in one batch; then more, then the end.
        var it = batches.makeAsyncIterator()
        let first = await it.next()
        #expect(first?.count == 12)
        loop.advanceTime(by: .milliseconds(100))
        let second = await it.next()
        #expect(second?.count == 3)
        s.stop()
        batches.finish()
        let end = await it.next()
        #expect(end == nil)
    }

    @Test func wallTimeFollowsTheMonotonicReading() {
        let now = NIODeadline.now()
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        let wall = Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
        #expect(abs(HealthTime.wall(at: now).milliseconds - wall) < 50)
        #expect(HealthTime.wall(at: now + .seconds(3)).milliseconds - HealthTime.wall(at: now).milliseconds == 3000)
    }

    @Test func updateKeepsUnchangedProbesAndStopsRemovedOnes() {
        let loop = EmbeddedEventLoop()
        let runner = FakeRunner()
        let (s, _) = scheduler(loop, runner) { key, _ in key == self.key(1) ? 100 : 0 }
        s.update([key(1): 1000, key(2): 1000])
        loop.run()
        loop.advanceTime(by: .milliseconds(600))
        #expect(runner.count(key(1)) == 1 && runner.count(key(2)) == 1)
        // key 1 stays (its next start stays at 1100, not restarted at 600); key 2 goes; key 3 comes.
        s.update([key(1): 1000, key(3): 1000])
        loop.run()
        #expect(runner.count(key(1)) == 1)
        #expect(runner.count(key(3)) == 1)
        loop.advanceTime(by: .milliseconds(499))
        #expect(runner.count(key(1)) == 1)
        loop.advanceTime(by: .milliseconds(1))
        #expect(runner.count(key(1)) == 2)
        loop.advanceTime(by: .seconds(5))
        #expect(runner.count(key(2)) == 1)
        #expect(Set(s.probes.keys) == [key(1), key(3)])
    }

    @Test func aNewIntervalAppliesFromTheNextStart() {
        let loop = EmbeddedEventLoop()
        let runner = FakeRunner()
        let (s, _) = scheduler(loop, runner)
        s.update([key(1): 1000])
        loop.run()
        loop.advanceTime(by: .milliseconds(10))
        s.update([key(1): 200])
        // Next start stays at 1000 (already scheduled), then every 200.
        loop.advanceTime(by: .milliseconds(990 + 400))
        #expect(runner.count(key(1)) == 4)
    }

    @Test func stopEndsEverything() {
        let loop = EmbeddedEventLoop()
        let runner = FakeRunner()
        let (s, reports) = scheduler(loop, runner)
        s.update([key(1): 100])
        loop.run()
        loop.advanceTime(by: .milliseconds(2))
        s.stop()
        loop.advanceTime(by: .seconds(10))
        #expect(runner.count(key(1)) == 1)
        #expect(reports.withLockedValue { $0.isEmpty })
        s.update([key(2): 100])
        #expect(s.probes.isEmpty)
    }

    @Test func theDefaultPhaseSpreadsFirstStartsOverTheInterval() {
        var buckets = [Int](repeating: 0, count: 10)
        for n in 0..<10_000 {
            let k = ProbeKey(probe: .tcp, address: IPAddress(v4: 0x0a00_0000 + UInt32(n)), port: 80, timeoutMilliseconds: 1000)
            let phase = ProbeScheduler.hashPhase(k, 10_000)
            #expect(phase < 10_000)
            buckets[Int(phase) / 1000] += 1
        }
        // Uniform would be 1,000 a bucket.
        #expect(buckets.allSatisfy { (800...1200).contains($0) })
    }

    @Test func resultsDriveTheMonitorEndToEnd() {
        // Two services share one real server: one probe, whose failures take it down in both.
        let services = [80, 81].map { webService(port: $0, weights: [3]) }
        var config = HealthConfig()
        var check = HealthCheck(name: "web", probe: .tcp)
        check.intervalMilliseconds = 1000
        check.fall = 2
        config.define(check)
        for s in services { config.serviceChecks[s.service.key] = ["web"] }
        var monitor = HealthMonitor()
        monitor.reconfigure(services: services, config: config, adopting: services, at: HealthTime(milliseconds: 0))
        let loop = EmbeddedEventLoop()
        let runner = FakeRunner(verdict: { _ in .failed("connection refused") })
        let (s, reports) = scheduler(loop, runner)
        s.update(monitor.probes)
        loop.run()
        loop.advanceTime(by: .milliseconds(1500))
        #expect(runner.runs.withLockedValue { $0.count } == 1)
        var changes: [HealthChanges] = []
        for r in reports.withLockedValue({ $0 }) { changes.append(monitor.record(r)) }
        #expect(changes.flatMap(\.reals).map(\.to) == [.down, .down])
        #expect(monitor.effectiveServices().allSatisfy { $0.realServers[0].server.weight == 0 })
    }

    /// In the user-mode-linux lab a reading of the clock is a system call: the probes that one slot
    /// starts, and those that end in the same turn, share one reading, whatever their number.
    @Test func theProbesOfOneSlotShareOneReadingOfTheClock() {
        let loop = CountingLoop()
        let runner = InstantRunner()
        let reports = NIOLockedValueBox<[ProbeReport]>([])
        let clock: @Sendable (NIODeadline) -> HealthTime = { HealthTime(milliseconds: Int64($0.uptimeNanoseconds / 1_000_000)) }
        let s = ProbeScheduler(group: loop, runner: runner, wallClock: clock, phase: { _, _ in 0 }) { r in reports.withLockedValue { $0.append(r) } }
        s.update(Dictionary(uniqueKeysWithValues: (1...50).map { (key($0), UInt32(1000)) }))
        loop.base.run()
        loop.base.advanceTime(by: .milliseconds(5))
        let before = loop.readings.withLockedValue { $0 }
        loop.base.advanceTime(by: .milliseconds(1000))
        #expect(reports.withLockedValue { $0.count } == 100)
        // The slot's turn: one reading at its start, one at its end (when the next turn may come).
        #expect(loop.readings.withLockedValue { $0 } - before == 2)
        #expect(reports.withLockedValue { $0 }.allSatisfy { $0.durationNanoseconds == 0 && $0.latenessNanoseconds == 0 })
    }
}

/// A runner whose verdict is there at once, as a ring's completions are when one look finds them.
final class InstantRunner: ProbeRunner {
    func run(_ key: ProbeKey, on loop: any EventLoop) -> EventLoopFuture<ProbeVerdict> {
        loop.makeSucceededFuture(.passed("connected"))
    }
}

/// An embedded event loop that counts the readings of its clock.
final class CountingLoop: EventLoop, @unchecked Sendable {
    let base = EmbeddedEventLoop()
    let readings = NIOLockedValueBox(0)

    var now: NIODeadline {
        readings.withLockedValue { $0 += 1 }
        return base.now
    }
    var inEventLoop: Bool { base.inEventLoop }
    func execute(_ task: @escaping @Sendable () -> Void) { base.execute(task) }
    func scheduleTask<T>(deadline: NIODeadline, _ task: @escaping @Sendable () throws -> T) -> Scheduled<T> {
        base.scheduleTask(deadline: deadline, task)
    }
    func scheduleTask<T>(in amount: TimeAmount, _ task: @escaping @Sendable () throws -> T) -> Scheduled<T> {
        base.scheduleTask(deadline: now + amount, task)
    }
    func shutdownGracefully(queue: DispatchQueue, _ callback: @escaping @Sendable ((any Error)?) -> Void) {
        base.shutdownGracefully(queue: queue, callback)
    }
}
