import Engine
import LVSModel
import NIOCore
import NIOPosix
import Prometheus
import Synchronization

/// The Prometheus text of the IPVS table, made at each scrape from the kernel's read and let go:
/// nothing is kept per service or real server between scrapes (`FamilyText`).
///
/// It runs on a thread of its own at a lower priority (nice 10): a scrape at 10,000 real servers
/// makes 100,000 series, and on Swift's shared threads at the probes' priority the first such
/// scrape starved the probes' event loop until every check timed out (one-CPU lab guest).
actor KernelSeries {
    /// The thread the series are made and written on.
    private static let renderThread = NicedThread.loop(nice: 10)
    private nonisolated let renderLoop: any EventLoop = KernelSeries.renderThread
    nonisolated var unownedExecutor: UnownedSerialExecutor { renderLoop.executor.asUnownedSerialExecutor() }

    private static let counterNames = ["connections", "packets_in", "packets_out", "bytes_in", "bytes_out"]
    /// Active and inactive connections, the kernel's weight, up.
    private static let realGauges = ["lvsh_real_active_connections", "lvsh_real_inactive_connections", "lvsh_real_weight", "lvsh_real_up"]

    private let daemonRegistry = PrometheusCollectorRegistry()
    private lazy var reconcileRuns = daemonRegistry.makeCounter(descriptor: KernelMetrics.descriptor("lvsh_reconcile_runs_total"))
    private lazy var driftCorrected = daemonRegistry.makeCounter(descriptor: KernelMetrics.descriptor("lvsh_drift_corrected_total"))
    private lazy var driftSeen = daemonRegistry.makeCounter(descriptor: KernelMetrics.descriptor("lvsh_drift_seen_total"))
    private lazy var reloadsOK = daemonRegistry.makeCounter(descriptor: KernelMetrics.descriptor("lvsh_config_reloads_total"),
                                                            labels: [("result", "success")])
    private lazy var reloadsFailed = daemonRegistry.makeCounter(descriptor: KernelMetrics.descriptor("lvsh_config_reloads_total"),
                                                                labels: [("result", "failure")])
    private lazy var kernelWrites = daemonRegistry.makeCounter(descriptor: KernelMetrics.descriptor("lvsh_kernel_writes_total"))
    private lazy var ringSpills = daemonRegistry.makeCounter(descriptor: KernelMetrics.descriptor("lvsh_check_ring_spills_total"))
    private lazy var lastReload = daemonRegistry.makeGauge(descriptor: KernelMetrics.descriptor("lvsh_config_last_reload_success_timestamp_seconds"))

    /// Prometheus text of the kernel's `table` against the configured weights (`desired`), the
    /// daemon's counters, the probes' failures and the daemon's own registry, handed to `sink` a part
    /// at a time. The kernel's 64-bit counters go out with the kernel's values; when one falls
    /// (`ipvsadm -Z`) Prometheus reads a reset.
    func write(table: IPVSTable, desired: ManagedState?, up: @Sendable (RealReference) -> Bool,
               daemon: Controller.Counters, failures failed: [KernelMetrics.FailureKey: UInt64],
               own: PrometheusCollectorRegistry, to sink: @escaping ScrapeSink) async {
        let wantedServices = desired?.services ?? []
        // Where each service sits in the desired state; its real servers are looked up one service
        // at a time (a dictionary of them all was about 200 bytes a real server for the scrape).
        var wantedIndex: [ServiceKey: Int] = [:]
        for (i, s) in wantedServices.enumerated() where wantedIndex[s.service.key] == nil { wantedIndex[s.service.key] = i }
        let services = table.services
        let serviceNames = services.map { PlanDescription.name($0.service.key) }
        // Where each real server sits in the table, and what it needs beside the kernel's figures.
        // Labels are made for each chunk of series and let go with it: kept for the whole scrape,
        // they were about 200 bytes a real server.
        var places: [(service: Int32, real: Int32)] = [], isUp: [Bool] = []
        var desiredWeights: [(Int, Int32)] = [] // (index in places, weight)
        for (s, service) in services.enumerated() {
            let key = service.service.key
            let wantedHere = wantedIndex[key].map { DesiredWeights(wantedServices[$0].realServers) }
            for (n, r) in service.realServers.enumerated() {
                if let w = wantedHere?[r.server.identity] { desiredWeights.append((places.count, w)) }
                places.append((Int32(s), Int32(n)))
                isUp.append(up(RealReference(service: key, real: r.server.identity)))
            }
        }
        let real = { (i: Int) -> RealServerStatus in services[Int(places[i].service)].realServers[Int(places[i].real)] }
        let realLabels = { (i: Int) -> [(String, String)] in
            let r = real(i)
            return [("service", serviceNames[Int(places[i].service)]), ("address", r.server.address.description), ("port", String(r.server.port))]
        }
        let failures = Array(failed)

        var out = ScrapeWriter(sink)
        for (n, name) in Self.counterNames.enumerated() {
            await FamilyText.counters("lvsh_service_\(name)_total", count: services.count, into: &out,
                                      labels: { [("service", serviceNames[$0])] }, value: { Self.stat(n, services[$0].stats) })
        }
        for (n, name) in Self.counterNames.enumerated() {
            await FamilyText.counters("lvsh_real_\(name)_total", count: places.count, into: &out,
                                      labels: realLabels, value: { Self.stat(n, real($0).stats) })
        }
        let gaugeValues: [(Int) -> Double] = [{ Double(real($0).activeConnections) }, { Double(real($0).inactiveConnections) },
                                              { Double(real($0).server.weight) }, { isUp[$0] ? 1 : 0 }]
        for (name, value) in zip(Self.realGauges, gaugeValues) {
            await FamilyText.gauges(name, count: places.count, into: &out, labels: realLabels, value: value)
        }
        await FamilyText.gauges("lvsh_real_desired_weight", count: desiredWeights.count, into: &out,
                                labels: { realLabels(desiredWeights[$0].0) }, value: { Double(desiredWeights[$0].1) })
        await FamilyText.counters("lvsh_check_failures_total", count: failures.count, into: &out, labels: {
            let key = failures[$0].key
            return [("kind", key.kind), ("address", key.address?.description ?? ""), ("port", String(key.port))]
        }, value: { failures[$0].value })
        reconcileRuns.set(UInt64(daemon.reconcileRuns))
        driftCorrected.set(UInt64(daemon.driftCorrected))
        driftSeen.set(UInt64(daemon.driftSeen))
        reloadsOK.set(UInt64(daemon.reloads - daemon.reloadFailures))
        reloadsFailed.set(UInt64(daemon.reloadFailures))
        kernelWrites.set(UInt64(daemon.writes))
        ringSpills.set(UInt64(daemon.ringSpills))
        lastReload.set(to: Double(daemon.lastReloadSuccess))

        var text: [UInt8] = []
        daemonRegistry.emit(into: &text)
        own.emit(into: &text)
        await out.write(text)
        await out.flush()
    }

    /// The same text whole, in one buffer (tests, and readers that want it so).
    func text(table: IPVSTable, desired: ManagedState?, up: @Sendable (RealReference) -> Bool,
              daemon: Controller.Counters, failures: [KernelMetrics.FailureKey: UInt64],
              own: PrometheusCollectorRegistry) async -> ByteBuffer {
        let whole = Gathered()
        await write(table: table, desired: desired, up: up, daemon: daemon, failures: failures, own: own, to: whole.add)
        return whole.buffer.withLock { $0 }
    }

    /// The n-th of the kernel's counters, in `counterNames`' order.
    private static func stat(_ n: Int, _ stats: Stats) -> UInt64 {
        switch n {
        case 0: stats.connections
        case 1: stats.packetsIn
        case 2: stats.packetsOut
        case 3: stats.bytesIn
        default: stats.bytesOut
        }
    }
}

/// The written weights of one desired service's real servers, by identity: a search of a few, a
/// dictionary made for the service alone when it has many.
private struct DesiredWeights {
    private let reals: [RealServerStatus]
    private let index: [RealServerKey: Int32]?

    init(_ reals: [RealServerStatus]) {
        self.reals = reals
        index = reals.count > 16
            ? Dictionary(reals.map { ($0.server.identity, $0.server.weight) }, uniquingKeysWith: { a, _ in a }) : nil
    }

    subscript(identity: RealServerKey) -> Int32? {
        if let index { return index[identity] }
        return reals.first { $0.server.identity == identity }?.server.weight
    }
}

/// A scrape's parts joined into one buffer.
final class Gathered: Sendable {
    let buffer = Mutex(ByteBuffer())

    @Sendable func add(_ part: ByteBuffer) async -> Bool {
        buffer.withLock { _ = $0.writeImmutableBuffer(part) }
        return true
    }
}
