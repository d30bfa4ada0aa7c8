#if canImport(Glibc)
import Glibc
#endif
import Engine
import LVSModel
import NIOCore
import NIOPosix
import Prometheus

/// The Prometheus series of the IPVS table, kept from scrape to scrape: a series is made when its
/// service or real server first appears and let go when it leaves, and a scrape only sets values.
/// Made afresh at each scrape, 10,000 real servers' 100,000 series took seconds of CPU per scrape and
/// /metrics stopped answering in a busy one-CPU guest.
///
/// It runs on a thread of its own at a lower priority (nice 10): the first scrape at 10,000 real
/// servers makes their series, which took 13 s in the one-CPU lab guest, and on Swift's shared
/// threads at the probes' priority it starved the probes' event loop until every check timed out.
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

    private struct ServiceSeries {
        /// The `service` label, made once.
        let name: String
        var counters: [ShardedFamily<Counter>.Handle]
        var generation: Int
    }

    private struct RealSeries {
        var counters: [ShardedFamily<Counter>.Handle]
        var gauges: [ShardedFamily<Gauge>.Handle]
        var desired: ShardedFamily<Gauge>.Handle?
        var generation: Int
    }

    private static let counterNames = ["connections", "packets_in", "packets_out", "bytes_in", "bytes_out"]
    private let serviceCounters = counterNames.map { ShardedFamily<Counter>(counter: "lvsh_service_\($0)_total") }
    private let realCounters = counterNames.map { ShardedFamily<Counter>(counter: "lvsh_real_\($0)_total") }
    /// Active and inactive connections, the kernel's weight, up.
    private let realGauges = ["lvsh_real_active_connections", "lvsh_real_inactive_connections", "lvsh_real_weight", "lvsh_real_up"]
        .map { ShardedFamily<Gauge>(gauge: $0) }
    private let desiredWeight = ShardedFamily<Gauge>(gauge: "lvsh_real_desired_weight")
    private let failureCounters = ShardedFamily<Counter>(counter: "lvsh_check_failures_total")

    private var services: [ServiceKey: ServiceSeries] = [:]
    private var reals: [RealReference: RealSeries] = [:]
    private var failures: [KernelMetrics.FailureKey: Counter] = [:]
    /// Which scrape last saw a series: the others belong to services and real servers that left.
    private var generation = 0

    private let daemonRegistry = PrometheusCollectorRegistry()
    private lazy var reconcileRuns = daemonRegistry.makeCounter(descriptor: KernelMetrics.descriptor("lvsh_reconcile_runs_total"))
    private lazy var driftCorrected = daemonRegistry.makeCounter(descriptor: KernelMetrics.descriptor("lvsh_drift_corrected_total"))
    private lazy var driftSeen = daemonRegistry.makeCounter(descriptor: KernelMetrics.descriptor("lvsh_drift_seen_total"))
    private lazy var reloadsOK = daemonRegistry.makeCounter(descriptor: KernelMetrics.descriptor("lvsh_config_reloads_total"),
                                                            labels: [("result", "success")])
    private lazy var reloadsFailed = daemonRegistry.makeCounter(descriptor: KernelMetrics.descriptor("lvsh_config_reloads_total"),
                                                                labels: [("result", "failure")])
    private lazy var kernelWrites = daemonRegistry.makeCounter(descriptor: KernelMetrics.descriptor("lvsh_kernel_writes_total"))
    private lazy var lastReload = daemonRegistry.makeGauge(descriptor: KernelMetrics.descriptor("lvsh_config_last_reload_success_timestamp_seconds"))

    /// How many real servers have series now (for tests).
    var realCount: Int { reals.count }

    /// Prometheus text of the kernel's `table` against the configured weights (`desired`), the
    /// daemon's counters, the probes' failures and the daemon's own registry. The kernel's 64-bit
    /// counters go out with the kernel's values; when one falls (`ipvsadm -Z`) Prometheus reads a reset.
    func text(table: IPVSTable, desired: ManagedState?, up: @Sendable (RealReference) -> Bool,
              daemon: Controller.Counters, failures failed: [KernelMetrics.FailureKey: UInt64],
              own: PrometheusCollectorRegistry) async -> [UInt8] {
        // New series first, yielding every few dozen: the first scrape at 10,000 real servers makes
        // 100,000 series, and a one-CPU machine must run the daemon's actor meanwhile. What follows
        // does not suspend, so its values and text belong to this scrape's table alone.
        var made = 0
        for s in table.services {
            for r in s.realServers where reals[RealReference(service: s.service.key, real: r.server.identity)] == nil {
                _ = real(RealReference(service: s.service.key, real: r.server.identity), name: PlanDescription.name(s.service.key))
                made += 1
                if made % ShardedFamily<Counter>.capacity == 0 { await Task.yield() }
            }
        }
        let wanted = desired.map { d in
            Dictionary(d.services.map { ($0.service.key, Dictionary($0.realServers.map { ($0.server.identity, $0.server.weight) }, uniquingKeysWith: { a, _ in a })) },
                       uniquingKeysWith: { a, _ in a })
        } ?? [:]
        generation += 1
        for s in table.services {
            let key = s.service.key
            let service = self.service(key)
            let name = service.name
            set(service.counters, s.stats)
            let wantedHere = wanted[key]
            for r in s.realServers {
                let ref = RealReference(service: key, real: r.server.identity)
                var series = real(ref, name: name)
                set(series.counters, r.stats)
                series.gauges[0].metric.set(to: Double(r.activeConnections))
                series.gauges[1].metric.set(to: Double(r.inactiveConnections))
                series.gauges[2].metric.set(to: Double(r.server.weight))
                series.gauges[3].metric.set(to: up(ref) ? 1 : 0)
                if let w = wantedHere?[r.server.identity] {
                    if series.desired == nil { series.desired = desiredWeight.add(Self.labels(name, ref.real)) }
                    series.desired!.metric.set(to: Double(w))
                } else if let d = series.desired {
                    desiredWeight.remove(d)
                    series.desired = nil
                }
                series.generation = generation
                reals[ref] = series
            }
        }
        dropLeavers()
        for (key, count) in failed {
            let counter = failures[key] ?? failureCounters.add([("kind", key.kind), ("address", key.address?.description ?? ""),
                                                                ("port", String(key.port))]).metric
            failures[key] = counter
            counter.set(count)
        }
        reconcileRuns.set(UInt64(daemon.reconcileRuns))
        driftCorrected.set(UInt64(daemon.driftCorrected))
        driftSeen.set(UInt64(daemon.driftSeen))
        reloadsOK.set(UInt64(daemon.reloads - daemon.reloadFailures))
        reloadsFailed.set(UInt64(daemon.reloadFailures))
        kernelWrites.set(UInt64(daemon.writes))
        lastReload.set(to: Double(daemon.lastReloadSuccess))

        var out: [UInt8] = []
        out.reserveCapacity(reals.count * 1200 + 16_384)
        for family in serviceCounters + realCounters { family.emit(into: &out) }
        for family in realGauges + [desiredWeight] { family.emit(into: &out) }
        failureCounters.emit(into: &out)
        daemonRegistry.emit(into: &out)
        own.emit(into: &out)
        return out
    }

    private func service(_ key: ServiceKey) -> ServiceSeries {
        var series = services[key] ?? {
            let name = PlanDescription.name(key)
            return ServiceSeries(name: name, counters: serviceCounters.map { $0.add([("service", name)]) }, generation: 0)
        }()
        series.generation = generation
        services[key] = series
        return series
    }

    /// The real server's series, made if it has none yet (the text's pass makes any that a
    /// concurrent scrape dropped while this one was suspended).
    private func real(_ ref: RealReference, name: String) -> RealSeries {
        if let series = reals[ref] { return series }
        let labels = Self.labels(name, ref.real)
        let series = RealSeries(counters: realCounters.map { $0.add(labels) }, gauges: realGauges.map { $0.add(labels) },
                                desired: nil, generation: generation)
        reals[ref] = series
        return series
    }

    private static func labels(_ service: String, _ real: RealServerKey) -> [(String, String)] {
        [("service", service), ("address", real.address.description), ("port", String(real.port))]
    }

    private func set(_ counters: [ShardedFamily<Counter>.Handle], _ stats: Stats) {
        counters[0].metric.set(stats.connections)
        counters[1].metric.set(stats.packetsIn)
        counters[2].metric.set(stats.packetsOut)
        counters[3].metric.set(stats.bytesIn)
        counters[4].metric.set(stats.bytesOut)
    }

    /// Lets go the series of services and real servers this scrape's table no longer has.
    private func dropLeavers() {
        for (ref, series) in reals where series.generation != generation {
            for (family, handle) in zip(realCounters, series.counters) { family.remove(handle) }
            for (family, handle) in zip(realGauges, series.gauges) { family.remove(handle) }
            if let d = series.desired { desiredWeight.remove(d) }
            reals[ref] = nil
        }
        for (key, series) in services where series.generation != generation {
            for (family, handle) in zip(serviceCounters, series.counters) { family.remove(handle) }
            services[key] = nil
        }
    }
}
