@testable import Daemon
import Engine
import LVSModel
import System
import Foundation
import Logging
import Shell
import Testing
import TestSupport

/// A reload of 10,000 services with one weight changed, on a fake kernel: its time and the pages it
/// touches for the first time (tools/bench/reload). A benchmark, not a test.
@Suite("A reload's time at 10,000 services", .serialized,
       .enabled(if: ProcessInfo.processInfo.environment["LVSH_BENCH_RELOAD"] != nil, "a benchmark: tools/bench/reload"))
struct ReloadBenchTests {
    /// tools/bench/checks's reload configuration: services of one real server each, no checks.
    static func file(_ services: Int, weightOfFirst: Int) -> String {
        var lines: [String] = []
        for i in 0..<services {
            let vip = "10.0.\(i / 250).\(i % 250 + 1):80"
            lines.append("service tcp \(vip) scheduler wlc")
            lines.append("real tcp \(vip) 10.1.\(i / 250).\(i % 250 + 1) nat weight \(i == 0 ? weightOfFirst : 1)")
        }
        lines.append("metrics listen 127.0.0.1:9999")
        return lines.joined(separator: "\n") + "\n"
    }

    @Test func reloads() async throws {
        let n = Int(ProcessInfo.processInfo.environment["LVSH_BENCH_RELOAD"] ?? "") ?? 10000
        let kernel = CountingKernel()
        let dir = try TemporaryFolders.make("lvsh-reload")
        let path = dir + "/running.lvsh"
        try #require(FileManagerless.write(Self.file(n, weightOfFirst: 1), to: path))
        let runtime = RuntimeDirectory(path: dir)
        let session = Session(control: kernel, backend: kernel, out: { _ in }, err: { _ in },
                              runtime: { () throws(LVSError) in runtime })
        var logger = Logger(label: "bench")
        logger.logLevel = .error
        let controller = Controller(file: path, session: session, logger: logger, runner: SilentRunner())
        try await controller.start()
        let clock = ContinuousClock()
        var times: [Duration] = [], faults: [Int] = []
        for round in 1...10 {
            try #require(FileManagerless.write(Self.file(n, weightOfFirst: round % 2 == 1 ? 2 : 1), to: path))
            let t0 = clock.now, f0 = Self.minorFaults()
            let ok = await controller.reload()
            times.append(clock.now - t0)
            faults.append(Self.minorFaults() - f0)
            #expect(ok)
        }
        print("reload of \(n) services, one weight changed, fake kernel: " + times.map { "\($0.components.attoseconds / 1_000_000_000_000_000 + $0.components.seconds * 1000) ms" }.joined(separator: " "))
        // A page's first touch is what a user-mode-linux guest makes slow (about 70 µs each).
        print("pages first touched by each reload: " + faults.map(String.init).joined(separator: " "))
        await controller.stop()
    }

    static func minorFaults() -> Int {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return usage.ru_minflt
    }
}
