@testable import Daemon
import Engine
import Firewall
import Glibc
import Health
import IPVS
import LVSModel
import Logging
import TestSupport
import NIOCore
import Shell
import System
import Testing

/// A kernel for the controller: the desired-state model (DesiredKernel) that counts full reads and
/// keeps every batch written.
final class CountingKernel: IPVSControl, MarkBackend, @unchecked Sendable {
    let inner: DesiredKernel
    var tableReads = 0
    var batches: [[IPVSOperation]] = []
    var name: String { "counting" }

    init() { inner = DesiredKernel(ManagedState(), info: IPVSInfo(version: 0x010201, connectionTableSize: 4096), backendName: "counting") }

    func info() throws(LVSError) -> IPVSInfo { try inner.info() }
    func table(_ detail: TableDetail) throws(LVSError) -> IPVSTable {
        tableReads += 1
        return try inner.table(detail)
    }
    func timeouts() throws(LVSError) -> Timeouts { try inner.timeouts() }
    func daemons() throws(LVSError) -> [SyncDaemon] { try inner.daemons() }
    func execute(_ operations: [IPVSOperation]) throws(LVSError) -> [IPVSFailure?] {
        batches.append(operations)
        return try inner.execute(operations)
    }
    func groups() throws(LVSError) -> [PortGroup] { try inner.groups() }
    func update(_ plan: ([PortGroup]) throws(LVSError) -> [GroupChange]) throws(LVSError) -> [GroupChange] { try inner.update(plan) }
    func rulesText() throws(LVSError) -> String { "" }
}

/// A runner whose probes never end: the test hands the controller its results itself.
struct SilentRunner: ProbeRunner {
    func run(_ key: ProbeKey, on loop: any EventLoop) -> EventLoopFuture<ProbeVerdict> { loop.makePromise().futureResult }
}

@Suite("The controller writes health changes as weight edits", .serialized)
struct ControllerHealthTests {
    static let file = """
        service tcp 10.0.0.1:80 scheduler wlc alpha off
        real tcp 10.0.0.1:80 10.1.0.1 nat weight 3
        real tcp 10.0.0.1:80 10.1.0.2 nat weight 5
        check t tcp interval 60 timeout 1 fall 2 rise 1
        service tcp 10.0.0.1:80 check t
        """

    func controller(_ kernel: CountingKernel, file: String = Self.file) throws -> (Controller, String) {
        let dir = try TemporaryFolders.make("lvsh-controller")
        let path = dir + "/running.lvsh"
        try #require(FileManagerless.write(file, to: path))
        let runtime = RuntimeDirectory(path: dir)
        let session = Session(control: kernel, backend: kernel, out: { _ in }, err: { _ in },
                              runtime: { () throws(LVSError) in runtime })
        return (Controller(file: path, session: session, logger: Logger(label: "test"), runner: SilentRunner()), dir)
    }

    func report(_ address: String, ok: Bool, at ms: Int64) -> ProbeReport {
        let key = ProbeKey(probe: .tcp, address: IPAddress(address)!, port: 80, timeoutMilliseconds: 1000)
        return ProbeReport(key: key, result: ProbeResult(ok: ok, reason: ok ? "connected" : "connection refused", at: HealthTime(milliseconds: ms)),
                           durationNanoseconds: 1_000_000, latenessNanoseconds: 0)
    }

    @Test func aFailureBecomesOneWeightEditWithoutAFullRead() async throws {
        let kernel = CountingKernel()
        let (controller, _) = try controller(kernel)
        try await controller.start()
        let readsAfterStart = kernel.tableReads
        let batchesAfterStart = kernel.batches.count
        // Two failures in one batch (fall 2): 10.1.0.1 goes down, one edit to weight 0.
        await controller.record([report("10.1.0.1", ok: false, at: 1000), report("10.1.0.1", ok: false, at: 2000),
                                 report("10.1.0.2", ok: true, at: 2000)])
        #expect(kernel.tableReads == readsAfterStart)
        let written = Array(kernel.batches.dropFirst(batchesAfterStart))
        #expect(written.count == 1)
        guard case .editRealServer(_, let r)? = written.first?.first, written.first?.count == 1 else {
            Issue.record("expected one real server edit, got \(written)")
            return
        }
        #expect(r.address == IPAddress("10.1.0.1") && r.weight == 0)
        // Back up: its written weight again, still no read.
        await controller.record([report("10.1.0.1", ok: true, at: 3000)])
        #expect(kernel.tableReads == readsAfterStart)
        guard case .editRealServer(_, let back)? = kernel.batches.last?.first else {
            Issue.record("expected the weight back")
            return
        }
        #expect(back.address == IPAddress("10.1.0.1") && back.weight == 3)
        // Results that change nothing write nothing.
        let before = kernel.batches.count
        await controller.record([report("10.1.0.1", ok: true, at: 4000), report("10.1.0.2", ok: true, at: 4000)])
        #expect(kernel.batches.count == before)
        await controller.stop()
    }

    @Test func aReloadDiffsFromWhatTheDaemonWroteWithoutReadingTheTable() async throws {
        let kernel = CountingKernel()
        let (controller, dir) = try controller(kernel)
        try await controller.start()
        let path = dir + "/running.lvsh"
        #expect(FileManagerless.write(Self.file.replacingOccurrences(of: "10.1.0.2 nat weight 5", with: "10.1.0.2 nat weight 6"), to: path))
        let reads = kernel.tableReads, batches = kernel.batches.count
        #expect(await controller.reload())
        // One read at most: apply's read-back of the one service it touched (on the kernel a dump of
        // that service's real servers; this fake answers it with its table).
        #expect(kernel.tableReads <= reads + 1, "the reload read the table")
        #expect(kernel.batches.count == batches + 1)
        guard case .editRealServer(_, let r)? = kernel.batches.last?.first else {
            Issue.record("expected one edit, got \(kernel.batches.last ?? [])")
            return
        }
        #expect(r.address == IPAddress("10.1.0.2") && r.weight == 6)
        // Drift the daemon has not repaired yet: the assumed table is wrong, the write fails, the
        // reload reads the kernel and still ends where the file says.
        _ = try kernel.inner.execute([.deleteRealServer(ServiceKey.inet(.tcp, IPAddress("10.0.0.1")!, 80),
                                                        RealServerKey(address: IPAddress("10.1.0.2")!, port: 80))])
        #expect(FileManagerless.write(Self.file.replacingOccurrences(of: "10.1.0.2 nat weight 5", with: "10.1.0.2 nat weight 7"), to: path))
        #expect(await controller.reload())
        let real = try kernel.inner.table(.complete).services.first?.realServers.first { $0.server.address == IPAddress("10.1.0.2") }
        #expect(real?.server.weight == 7)
        await controller.stop()
    }

    @Test func checksAReloadAddsStartFromTheWeightsTheDaemonWrote() async throws {
        // No check, maintenance or policy: the monitor is left empty (only the metrics listener is
        // a daemon's setting here).
        let unchecked = """
            service tcp 10.0.0.1:80 scheduler wlc
            real tcp 10.0.0.1:80 10.1.0.1 nat weight 3
            real tcp 10.0.0.1:80 10.1.0.2 nat weight 5
            metrics listen 127.0.0.1:9100
            """
        let kernel = CountingKernel()
        let (controller, dir) = try controller(kernel, file: unchecked)
        try await controller.start()
        #expect(await controller.healthStatus().isEmpty)
        let batches = kernel.batches.count
        // A check comes with alpha (the default): known real servers keep their weight until their
        // first result, as at a start over a kernel that has them; only a new one waits for rise.
        #expect(FileManagerless.write(unchecked + """

            real tcp 10.0.0.1:80 10.1.0.3 nat weight 7
            check t tcp interval 60 timeout 1 fall 2 rise 1
            service tcp 10.0.0.1:80 check t
            """, to: dir + "/running.lvsh"))
        #expect(await controller.reload())
        let health = await controller.healthStatus().sorted { $0.ref.real.address < $1.ref.real.address }
        #expect(health.map(\.state) == [.unknown, .unknown, .down])
        #expect(health.map(\.weight) == [3, 5, 0])
        let written = kernel.batches.dropFirst(batches).flatMap { $0 }
        #expect(written.count == 1, "only the new real server is written: \(written)")
        if case .addRealServer(_, let r)? = written.first { #expect(r.address == IPAddress("10.1.0.3") && r.weight == 0) }
        else { Issue.record("expected the new real server, got \(written)") }
        // Checks gone again: the written weights, and the monitor empty.
        #expect(FileManagerless.write(unchecked, to: dir + "/running.lvsh"))
        #expect(await controller.reload())
        #expect(await controller.healthStatus().isEmpty)
        let table = try kernel.inner.table(.complete).services.first?.realServers.map(\.server.weight)
        #expect(table == [3, 5])
        await controller.stop()
    }

    @Test func aRefusedEditFallsBackToTheWholeTable() async throws {
        let kernel = CountingKernel()
        let (controller, _) = try controller(kernel)
        try await controller.start()
        // Another program deletes the real server behind the daemon's back.
        _ = try kernel.inner.execute([.deleteRealServer(ServiceKey.inet(.tcp, IPAddress("10.0.0.1")!, 80),
                                                        RealServerKey(address: IPAddress("10.1.0.1")!, port: 80))])
        let reads = kernel.tableReads
        await controller.record([report("10.1.0.1", ok: false, at: 1000), report("10.1.0.1", ok: false, at: 2000)])
        // The edit was refused (no such real server): a full read and apply put it back at weight 0.
        #expect(kernel.tableReads > reads)
        let table = try kernel.inner.table(.complete)
        let real = table.services.first?.realServers.first { $0.server.address == IPAddress("10.1.0.1") }
        #expect(real?.server.weight == 0)
        await controller.stop()
    }
}

@Suite("apply --confirm through the daemon", .serialized)
struct ControllerConfirmTests {
    static let more = ControllerHealthTests.file + "\nreal tcp 10.0.0.1:80 10.1.0.3 nat weight 1\n"

    func apply(_ controller: Controller, confirm: Int?) async -> ControlReply {
        var options = SessionOptions()
        options.apply.confirm = confirm
        var request = ControlRequest(name: "-c", text: "apply /etc/more.lvsh", options: options)
        request.files = ["/etc/more.lvsh": Self.more]
        return await controller.handle(request)
    }

    func reals(_ kernel: CountingKernel) throws -> [String] {
        try kernel.inner.table(.complete).services.flatMap { $0.realServers.map { "\($0.server.address)" } }.sorted()
    }

    @Test func withoutConfirmTheStateBeforeComesBack() async throws {
        let kernel = CountingKernel()
        let (controller, _) = try ControllerHealthTests().controller(kernel)
        try await controller.start()
        let reply = await apply(controller, confirm: 1)
        #expect(reply.code == 0, "\(reply.err)")
        #expect(reply.err.contains("unless `lvsh confirm`"))
        #expect(try reals(kernel) == ["10.1.0.1", "10.1.0.2", "10.1.0.3"])
        // The timer runs out after 1 s; a loaded machine may take longer to run the rollback.
        // (Polled through the actor: the fake kernel is the actor's while it writes.)
        for _ in 0..<100 where await controller.desired?.services.first?.realServers.count != 2 {
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(try reals(kernel) == ["10.1.0.1", "10.1.0.2"])
        let desired = await controller.desired
        #expect(desired?.services.first?.realServers.count == 2)
        await controller.stop()
    }

    @Test func confirmKeepsTheAppliedState() async throws {
        let kernel = CountingKernel()
        let (controller, _) = try ControllerHealthTests().controller(kernel)
        try await controller.start()
        let nothing = await controller.handle(ControlRequest(name: "-c", text: "confirm"))
        #expect(nothing.out.contains("nothing to confirm"))
        _ = await apply(controller, confirm: 1)
        let confirmed = await controller.handle(ControlRequest(name: "-c", text: "confirm"))
        #expect(confirmed.code == 0 && confirmed.out.contains("confirmed"), "\(confirmed)")
        try await Task.sleep(for: .milliseconds(1600))
        #expect(try reals(kernel) == ["10.1.0.1", "10.1.0.2", "10.1.0.3"])
        await controller.stop()
    }
}

/// Writes a small file without Foundation.
enum FileManagerless {
    static func write(_ text: String, to path: String) -> Bool {
        guard let f = fopen(path, "w") else { return false }
        defer { fclose(f) }
        return fputs(text, f) >= 0
    }
}
