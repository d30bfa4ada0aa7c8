@testable import Daemon
import Engine
import Glibc
import Health
import LVSModel
import Prometheus
import NIOCore
import Synchronization
import Testing

@Suite("Kernel series in Prometheus text")
struct KernelMetricsTests {
    /// 3 services × 100 real servers: more than one chunk of series, joined family by family.
    func text() async -> String {
        var services: [ServiceStatus] = []
        for s in 0..<3 {
            let key = ServiceKey.inet(.tcp, IPAddress(v4: 0x0a00_0001 + UInt32(s)), 80)
            var status = ServiceStatus(service: VirtualService(key: key))
            for r in 0..<100 {
                var real = RealServerStatus(server: RealServer(address: IPAddress(v4: 0x0a01_0000 + UInt32(s * 100 + r)), port: 80,
                                                               forwarding: .masquerade, weight: 1))
                real.stats.connections = UInt64(r)
                status.realServers.append(real)
            }
            services.append(status)
        }
        var desired = ManagedState()
        desired.services = services
        let metrics = KernelMetrics(registry: PrometheusCollectorRegistry())
        // 1,000 failing addresses, the first one twice.
        for n in [0] + Array(0..<1000) {
            let key = ProbeKey(probe: .tcp, address: IPAddress(v4: 0x0a02_0000 + UInt32(n)), port: 80, timeoutMilliseconds: 1000)
            metrics.record(ProbeReport(key: key, result: ProbeResult(ok: false, reason: "refused", at: HealthTime(milliseconds: 0)),
                                       durationNanoseconds: 1000, latenessNanoseconds: 0))
        }
        let bytes = await metrics.series.text(table: IPVSTable(services: services), desired: desired, up: { _ in true },
                                              daemon: Controller.Counters(), failures: metrics.failures, own: metrics.registry)
        return String(buffer: bytes)
    }

    @Test func everyFamilyOnceWithAllItsSamplesTogether() async {
        let lines = await text().split(separator: "\n")
        let types = lines.filter { $0.hasPrefix("# TYPE ") }.map { $0.split(separator: " ")[2] }
        #expect(types.count == Set(types).count, "a family's TYPE line appears more than once")
        #expect(lines.filter { $0.hasPrefix("lvsh_real_weight{") }.count == 300)
        #expect(lines.filter { $0.hasPrefix("lvsh_real_connections_total{") }.count == 300)
        #expect(lines.filter { $0.hasPrefix("lvsh_service_connections_total{") }.count == 3)
        #expect(lines.contains("lvsh_check_ring_spills_total 0"))
        let failures = lines.filter { $0.hasPrefix("lvsh_check_failures_total{") }
        #expect(failures.count == 1000)
        #expect(failures.contains { $0.contains("address=\"10.2.0.0\"") && $0.hasSuffix(" 2") })
        // Samples follow their own family's TYPE line, never another's.
        var family = ""
        for line in lines {
            if line.hasPrefix("# TYPE ") { family = String(line.split(separator: " ")[2]) } else if !line.hasPrefix("#") {
                #expect(line.hasPrefix(family), "\(line) under \(family)")
            }
        }
    }

    @Test(.enabled(if: access("/usr/bin/promtool", X_OK) == 0, "needs promtool (Debian's prometheus package)"))
    func promtoolAcceptsIt() async throws {
        let path = "/tmp/lvsh-metrics-\(getpid()).txt"
        let f = try #require(fopen(path, "w"))
        fputs(await text(), f)
        fclose(f)
        defer { unlink(path) }
        let status = system("/usr/bin/promtool check metrics < \(path) >/dev/null 2>&1")
        #expect(status == 0)
    }

    /// A table of `reals` real servers behind one service, the n-th with n connections.
    static func table(reals: Int, connections: UInt64 = 0) -> IPVSTable {
        let key = ServiceKey.inet(.tcp, IPAddress(v4: 0x0a00_0001), 80)
        var status = ServiceStatus(service: VirtualService(key: key))
        for r in 0..<reals {
            var real = RealServerStatus(server: RealServer(address: IPAddress(v4: 0x0a01_0000 + UInt32(r)), port: 80,
                                                           forwarding: .masquerade, weight: 2))
            real.stats.connections = connections + UInt64(r)
            status.realServers.append(real)
        }
        return IPVSTable(services: [status])
    }

    @Test func eachScrapeHasTheSeriesOfItsTableAlone() async {
        let metrics = KernelMetrics(registry: PrometheusCollectorRegistry())
        func scrape(_ table: IPVSTable, desired: ManagedState? = nil) async -> [Substring] {
            let text = await metrics.series.text(table: table, desired: desired, up: { _ in true }, daemon: Controller.Counters(),
                                                 failures: metrics.failures, own: metrics.registry)
            return String(buffer: text).split(separator: "\n")
        }
        var desired = ManagedState()
        desired.services = Self.table(reals: 100).services
        let first = await scrape(Self.table(reals: 100, connections: 1000), desired: desired)
        #expect(first.filter { $0.hasPrefix("lvsh_real_desired_weight{") }.count == 100)
        #expect(first.contains("lvsh_real_connections_total{service=\"tcp 10.0.0.1:80\",address=\"10.1.0.99\",port=\"80\"} 1099"))
        // The kernel's counter fell (ipvsadm -Z): the series says so (Prometheus reads a reset).
        // 30 real servers left, and the configuration no longer has any.
        let second = await scrape(Self.table(reals: 70))
        #expect(second.filter { $0.hasPrefix("lvsh_real_weight{") }.count == 70)
        #expect(second.filter { $0.hasPrefix("lvsh_real_connections_total{") }.count == 70)
        #expect(!second.contains { $0.hasPrefix("lvsh_real_desired_weight") })
        #expect(second.contains("lvsh_real_connections_total{service=\"tcp 10.0.0.1:80\",address=\"10.1.0.69\",port=\"80\"} 69"))
        #expect(!second.contains { $0.contains("address=\"10.1.0.70\"") })
        let types = second.filter { $0.hasPrefix("# TYPE ") }
        #expect(types.count == Set(types).count)
        // More real servers than a chunk of series holds: still one family each.
        let third = await scrape(Self.table(reals: 200))
        #expect(third.filter { $0.hasPrefix("lvsh_real_up{") }.count == 200)
        #expect(third.filter { $0.hasPrefix("# TYPE lvsh_real_up ") }.count == 1)
        #expect(await scrape(IPVSTable()).allSatisfy { !$0.hasPrefix("lvsh_real_") && !$0.hasPrefix("lvsh_service_") })
    }

    /// The text leaves in parts of about ScrapeWriter.partBytes, in order, and nothing more is made
    /// once the reader is gone.
    @Test func writtenInBoundedPartsThatJoinToTheWholeText() async {
        let metrics = KernelMetrics(registry: PrometheusCollectorRegistry())
        let table = Self.table(reals: 3000)
        let parts = Parts()
        await metrics.series.write(table: table, desired: nil, up: { _ in true }, daemon: Controller.Counters(),
                                   failures: [:], own: metrics.registry, to: parts.add)
        let whole = await metrics.series.text(table: table, desired: nil, up: { _ in true }, daemon: Controller.Counters(),
                                              failures: [:], own: metrics.registry)
        let got = parts.all.withLock { $0 }
        #expect(got.count > 10)
        // A part ends at the first chunk of series that fills it: at most one chunk's text more.
        #expect(got.allSatisfy { $0.readableBytes < ScrapeWriter.partBytes + 16_384 })
        // The same lines (swift-prometheus orders a family's series as its dictionary does).
        let joined = got.reduce(into: "") { $0 += String(buffer: $1) }
        #expect(joined.split(separator: "\n").sorted() == String(buffer: whole).split(separator: "\n").sorted())

        let gone = Parts(accept: 1)
        await metrics.series.write(table: table, desired: nil, up: { _ in true }, daemon: Controller.Counters(),
                                   failures: [:], own: metrics.registry, to: gone.add)
        #expect(gone.all.withLock { $0.count } == 1)
    }
}

/// A reader of a scrape's parts that keeps them, and leaves after `accept` of them.
final class Parts: Sendable {
    let all = Mutex<[ByteBuffer]>([])
    let accept: Int

    init(accept: Int = .max) { self.accept = accept }

    @Sendable func add(_ part: ByteBuffer) async -> Bool {
        all.withLock {
            $0.append(part)
            return $0.count < accept
        }
    }
}
