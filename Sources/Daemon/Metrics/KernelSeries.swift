#if canImport(Glibc)
import Glibc
#endif
import Engine
import LVSModel
import NIOCore
import NIOPosix
import Prometheus

/// The Prometheus text of the IPVS table, made at each scrape from the kernel's read and let go:
/// nothing is kept per service or real server between scrapes (`FamilyText`).
///
/// It runs on a thread of its own at a lower priority (nice 10): a scrape at 10,000 real servers
/// makes 100,000 series, and on Swift's shared threads at the probes' priority the first such
/// scrape starved the probes' event loop until every check timed out (one-CPU lab guest).
actor KernelSeries {
    /// The thread the series are made and written on.
    private static let renderGroup: MultiThreadedEventLoopGroup = {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        // On Linux a nice value belongs to a thread, and 0 names the calling one.
        group.next().execute { _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, 10) }
        return group
    }()
    private nonisolated let renderLoop: any EventLoop = KernelSeries.renderGroup.next()
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
    /// daemon's counters, the probes' failures and the daemon's own registry. The kernel's 64-bit
    /// counters go out with the kernel's values; when one falls (`ipvsadm -Z`) Prometheus reads a reset.
    func text(table: IPVSTable, desired: ManagedState?, up: @Sendable (RealReference) -> Bool,
              daemon: Controller.Counters, failures failed: [KernelMetrics.FailureKey: UInt64],
              own: PrometheusCollectorRegistry) -> ByteBuffer {
        let wanted = desired.map { d in
            Dictionary(d.services.map { ($0.service.key, Dictionary($0.realServers.map { ($0.server.identity, $0.server.weight) }, uniquingKeysWith: { a, _ in a })) },
                       uniquingKeysWith: { a, _ in a })
        } ?? [:]
        let services = table.services
        let serviceLabels = services.map { [("service", PlanDescription.name($0.service.key))] }
        var reals: [RealServerStatus] = [], realLabels: [[(String, String)]] = [], isUp: [Bool] = []
        var desiredWeights: [(Int, Int32)] = [] // (index in reals, weight)
        for (s, service) in services.enumerated() {
            let key = service.service.key
            let name = serviceLabels[s][0].1
            let wantedHere = wanted[key]
            for r in service.realServers {
                if let w = wantedHere?[r.server.identity] { desiredWeights.append((reals.count, w)) }
                reals.append(r)
                realLabels.append([("service", name), ("address", r.server.address.description), ("port", String(r.server.port))])
                isUp.append(up(RealReference(service: key, real: r.server.identity)))
            }
        }
        let failures = Array(failed)

        // The response's own buffer: the text is written once, not made and then copied into it.
        var out = ByteBufferAllocator().buffer(capacity: reals.count * 900 + 16_384)
        for (n, name) in Self.counterNames.enumerated() {
            FamilyText.counters("lvsh_service_\(name)_total", count: services.count, into: &out,
                                labels: { serviceLabels[$0] }, value: { Self.stat(n, services[$0].stats) })
        }
        for (n, name) in Self.counterNames.enumerated() {
            FamilyText.counters("lvsh_real_\(name)_total", count: reals.count, into: &out,
                                labels: { realLabels[$0] }, value: { Self.stat(n, reals[$0].stats) })
        }
        let gaugeValues: [(Int) -> Double] = [{ Double(reals[$0].activeConnections) }, { Double(reals[$0].inactiveConnections) },
                                              { Double(reals[$0].server.weight) }, { isUp[$0] ? 1 : 0 }]
        for (name, value) in zip(Self.realGauges, gaugeValues) {
            FamilyText.gauges(name, count: reals.count, into: &out, labels: { realLabels[$0] }, value: value)
        }
        FamilyText.gauges("lvsh_real_desired_weight", count: desiredWeights.count, into: &out,
                          labels: { realLabels[desiredWeights[$0].0] }, value: { Double(desiredWeights[$0].1) })
        FamilyText.counters("lvsh_check_failures_total", count: failures.count, into: &out, labels: {
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
        out.writeBytes(text)
        return out
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
