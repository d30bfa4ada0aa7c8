@testable import Daemon
import CNetlink
import Engine
import Foundation
import Health
import LVSModel
import Logging
import NIOPosix
import Shell
import System
import Testing
import TestSupport

/// The daemon's memory per real server, by part: a benchmark (tools/bench/memory), not a test. It
/// runs only when LVSH_BENCH_MEMORY is set, alone in its process, with MALLOC_ARENA_MAX=1 so that
/// glibc's count of bytes in use (mallinfo2) sees every thread's allocations.
@Suite("The daemon's memory per real server", .serialized,
       .enabled(if: ProcessInfo.processInfo.environment["LVSH_BENCH_MEMORY"] != nil, "a benchmark: tools/bench/memory"))
struct MemoryBenchTests {
    static func inUse() -> Int { _ = malloc_trim(0); let m = mallinfo2(); return Int(m.uordblks + m.hblkhd) }
    /// The process's resident bytes (/proc/self/statm), without a trim first: what glibc kept of
    /// what was freed is in it, the holes it gave back are not (mallinfo2's arena counts those too).
    static func resident() -> Int {
        guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8),
              let pages = text.split(separator: " ").dropFirst().first.flatMap({ Int($0) }) else { return 0 }
        return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
    }

    /// Bytes in use taken by each step, from the end of the one before.
    struct Steps {
        var taken: [(String, Int)] = []
        private var mark = MemoryBenchTests.inUse()

        /// Starts counting from now (what was made before belongs to no step).
        mutating func restart() { mark = MemoryBenchTests.inUse() }

        mutating func end(_ name: String) {
            let now = MemoryBenchTests.inUse()
            taken.append((name, now - mark))
            mark = now
        }
    }

    /// tools/bench/checks's configuration (services of 100 real servers, a TCP check each, alpha off)
    /// with an interval of an hour: the runner here never answers, and a probe that has started
    /// holds its run's memory, which a real one gives back within its timeout.
    static func file(_ reals: Int) -> String {
        var lines: [String] = []
        for i in 0..<(reals / 100) {
            let vip = "10.0.\(i / 250).\(i % 250 + 1):80"
            lines.append("service tcp \(vip) scheduler wlc")
            for j in 0..<100 { let r = i * 100 + j; lines.append("real tcp \(vip) 10.1.\(r / 250).\(r % 250 + 1) nat weight 1") }
        }
        lines.append("check t tcp interval 3600 timeout 1")
        for i in 0..<(reals / 100) {
            lines.append("service tcp 10.0.\(i / 250).\(i % 250 + 1):80 check t")
            lines.append("service tcp 10.0.\(i / 250).\(i % 250 + 1):80 alpha off")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Bytes in use after each step, for a daemon of `n` real servers on a kernel of its own (the
    /// fake's table is measured apart and taken out).
    func daemon(_ n: Int) async throws -> [(String, Int)] {
        let text = Self.file(n)
        var steps = Steps()
        let kernel = CountingKernel()
        let dir = try TemporaryFolders.make("lvsh-memory")
        try #require(FileManagerless.write(text, to: dir + "/running.lvsh"))
        let runtime = RuntimeDirectory(path: dir)
        let session = Session(control: kernel, backend: kernel, out: { _ in }, err: { _ in },
                              runtime: { () throws(LVSError) in runtime })
        let controller = Controller(file: dir + "/running.lvsh", session: session, logger: { var l = Logger(label: "bench"); l.logLevel = .error; return l }(), runner: SilentRunner())
        steps.restart()
        try await controller.start()
        steps.end("start (with the fake kernel's table)")
        steps.restart()
        var reports: [ProbeReport] = []
        for s in try kernel.inner.table(.complete).services {
            for r in s.realServers {
                let key = ProbeKey(probe: .tcp, address: r.server.address, port: 80, timeoutMilliseconds: 1000)
                reports.append(ProbeReport(key: key, result: ProbeResult(ok: true, reason: "connected", at: HealthTime(milliseconds: 1000)),
                                           durationNanoseconds: 1_000_000, latenessNanoseconds: 0))
            }
        }
        await controller.record(reports)
        reports = []
        steps.end("a result for every probe")
        var held: [(String, Int)] = []
        for n in 1...3 {
            let before = MemoryBenchTests.inUse()
            // A reader that takes each part at once, as a local Prometheus does.
            await controller.scrape(into: { _ in true })
            held.append(("held: resident after scrape \(n), not in use", MemoryBenchTests.resident() - before))
            steps.end("scrape \(n)")
        }
        steps.taken += held
        await controller.stop()
        withExtendedLifetime((controller, kernel)) {}
        return steps.taken
    }

    /// Bytes in use of each part, built alone as the daemon builds it.
    func parts(_ n: Int) async throws -> [(String, Int)] {
        var steps = Steps()
        let text = Self.file(n)
        let kernel = CountingKernel()
        let session = Session(control: kernel, backend: kernel, out: { _ in }, err: { _ in }, runtime: { () throws(LVSError) in nil })
        steps.restart()
        let (state, _) = try ApplyRunner(session: session, options: ApplyOptions()).evaluate(text, file: "bench")
        steps.end("desired state (parsed file)")
        let fake = DesiredKernel(state, info: IPVSInfo(version: 0x010201, connectionTableSize: 4096), backendName: "bench")
        steps.end("fake kernel")
        var monitor = HealthMonitor()
        monitor.reconfigure(services: state.services, config: state.health, adopting: [], at: .now())
        steps.end("health monitor")
        let (scheduler, _) = ProbeScheduler.withBatches(group: MultiThreadedEventLoopGroup.singleton, runner: SilentRunner())
        scheduler.update(monitor.probes)
        try? await Task.sleep(for: .milliseconds(200)) // the loops take the first starts
        steps.end("probe scheduler")
        withExtendedLifetime((state, fake, monitor)) {}
        scheduler.stop()
        return steps.taken
    }

    @Test func perRealServer() async throws {
        for (name, measure) in [("daemon", { n in try await self.daemon(n) }), ("parts", { n in try await self.parts(n) })]
            as [(String, (Int) async throws -> [(String, Int)])] {
            let small = try await measure(1000), big = try await measure(10000)
            print("memory per real server, \(name) (slope from 1,000 to 10,000 real servers, bytes in use):")
            for (a, b) in zip(small, big) { print("  " + a.0.padding(toLength: 44, withPad: " ", startingAt: 0) + String((b.1 - a.1) / 9000)) }
            // "held:" lines are resident bytes not in use (a scrape's working memory glibc keeps, and
            // what the run before left), not bytes in use.
            let sum = { (steps: [(String, Int)]) in steps.filter { !$0.0.hasPrefix("held:") }.reduce(0) { $0 + $1.1 } }
            print("  " + "total in use".padding(toLength: 44, withPad: " ", startingAt: 0) + String((sum(big) - sum(small)) / 9000))
        }
    }
}
