import Engine
import Health
import LVSModel
import Prometheus

/// Prometheus series of the IPVS table and the daemon. The kernel's series are made at each scrape
/// in a registry of their own and let go after it: between scrapes the daemon holds nothing per real
/// server for them (at 10,000 real servers, a dozen series each were most of its memory). The kernel's
/// 64-bit counters go out with the kernel's values; when the kernel's value falls (`ipvsadm -Z`)
/// Prometheus reads it as a counter reset. The probes' histograms and failure counters are the
/// daemon's own counts and live in `registry` for the daemon's life.
final class KernelMetrics {
    let registry: PrometheusCollectorRegistry

    /// What the help text says of each metric.
    static let help: [String: String] = [
        "lvsh_service_connections_total": "Connections IPVS scheduled for the virtual service (kernel counter).",
        "lvsh_service_packets_in_total": "Packets from clients to the virtual service (kernel counter).",
        "lvsh_service_packets_out_total": "Packets from the real servers back to clients (kernel counter).",
        "lvsh_service_bytes_in_total": "Bytes from clients to the virtual service (kernel counter).",
        "lvsh_service_bytes_out_total": "Bytes from the real servers back to clients (kernel counter).",
        "lvsh_real_connections_total": "Connections IPVS scheduled to the real server (kernel counter).",
        "lvsh_real_packets_in_total": "Packets from clients to the real server (kernel counter).",
        "lvsh_real_packets_out_total": "Packets from the real server back to clients (kernel counter).",
        "lvsh_real_bytes_in_total": "Bytes from clients to the real server (kernel counter).",
        "lvsh_real_bytes_out_total": "Bytes from the real server back to clients (kernel counter).",
        "lvsh_real_active_connections": "Established connections to the real server.",
        "lvsh_real_inactive_connections": "Connections to the real server in other states.",
        "lvsh_real_weight": "The real server's weight in the kernel (after health and maintenance).",
        "lvsh_real_desired_weight": "The real server's weight as the configuration writes it.",
        "lvsh_real_up": "1 when the real server's checks pass (or it has none), else 0.",
        "lvsh_reconcile_runs_total": "Periodic reads of the kernel looking for drift.",
        "lvsh_drift_corrected_total": "Changes made by other programs that the daemon restored.",
        "lvsh_drift_seen_total": "Changes made by other programs that the daemon found.",
        "lvsh_config_reloads_total": "Reloads of the configuration file, by result.",
        "lvsh_config_last_reload_success_timestamp_seconds": "When the configuration last loaded, in seconds since the epoch.",
        "lvsh_kernel_writes_total": "IPVS and firewall requests the daemon sent to the kernel.",
        "lvsh_check_duration_seconds": "How long health probes took, by kind.",
        "lvsh_check_failures_total": "Failed health probes, by kind and probed address and port.",
        "lvsh_check_lateness_seconds": "How late health probes started after their due time.",
    ]

    /// Probe durations by kind; failures by kind, address and port. These are the daemon's own
    /// counts (not the kernel's), kept for the daemon's life.
    private var durations: [String: DurationHistogram] = [:]
    private lazy var lateness = registry.makeDurationHistogram(descriptor: Self.descriptor("lvsh_check_lateness_seconds"),
                                                               buckets: Self.durationBuckets)
    /// Failed probes by what was probed: counted here and put into each scrape's registries, since
    /// a series added to the daemon's registry for each newly failing address costs a copy of the
    /// whole family (10,000 failing real servers stalled the daemon).
    private(set) var failures: [FailureKey: UInt64] = [:]
    struct FailureKey: Hashable, Sendable {
        var kind: String
        var address: IPAddress?
        var port: UInt16
    }
    static let durationBuckets: [Duration] = [.milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10),
                                              .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250),
                                              .milliseconds(500), .seconds(1), .milliseconds(2500), .seconds(5), .seconds(10)]

    /// One probe's run.
    func record(_ report: ProbeReport) {
        let kind = report.key.probe.kindWord
        let histogram = durations[kind] ?? registry.makeDurationHistogram(descriptor: Self.descriptor("lvsh_check_duration_seconds"),
                                                                          labels: [("kind", kind)], buckets: Self.durationBuckets)
        durations[kind] = histogram
        histogram.recordNanoseconds(report.durationNanoseconds)
        lateness.recordNanoseconds(max(0, report.latenessNanoseconds))
        guard !report.result.ok else { return }
        failures[FailureKey(kind: kind, address: report.key.address, port: report.key.port), default: 0] += 1
    }

    init(registry: PrometheusCollectorRegistry) {
        self.registry = registry
    }

    /// Prometheus text (swift-prometheus writes it) of the kernel's `table` against `desired`, the
    /// daemon's counters and the probes' series; `up` tells a real server's health.
    func text(table: IPVSTable, desired: ManagedState?, up: @Sendable (RealReference) -> Bool, daemon: Controller.Counters) async -> [UInt8] {
        await Self.text(table: table, desired: desired, up: up, daemon: daemon, failures: failures, own: registry)
    }

    /// The scrape's text from a snapshot of the daemon's state: nonisolated, so that the daemon's
    /// actor goes on with health results while 10,000 real servers' series are made (seconds of
    /// CPU), and it yields after each shard, so that a one-CPU machine runs the actor in between.
    static func text(table: IPVSTable, desired: ManagedState?, up: @Sendable (RealReference) -> Bool, daemon: Controller.Counters,
                     failures: [FailureKey: UInt64], own registry: PrometheusCollectorRegistry) async -> [UInt8] {
        // swift-prometheus copies a metric's whole family for each series it adds (quadratic: at
        // 10,000 real servers a scrape did not finish in 120 s), so the series go into registries of
        // `shard` real servers each, whose texts are then joined family by family.
        let shard = 64
        var scrapes = [Scrape()]
        var inShard = 0
        let wanted = desired.map { d in
            Dictionary(d.services.map { ($0.service.key, Dictionary($0.realServers.map { ($0.server.identity, $0.server.weight) }, uniquingKeysWith: { a, _ in a })) },
                       uniquingKeysWith: { a, _ in a })
        } ?? [:]
        for s in table.services {
            let service = PlanDescription.name(s.service.key)
            let sl = [("service", service)]
            let scrape = scrapes[scrapes.count - 1]
            scrape.counter("lvsh_service_connections", sl, s.stats.connections)
            scrape.counter("lvsh_service_packets_in", sl, s.stats.packetsIn)
            scrape.counter("lvsh_service_packets_out", sl, s.stats.packetsOut)
            scrape.counter("lvsh_service_bytes_in", sl, s.stats.bytesIn)
            scrape.counter("lvsh_service_bytes_out", sl, s.stats.bytesOut)
            for r in s.realServers {
                if inShard == shard {
                    scrapes.append(Scrape())
                    inShard = 0
                    await Task.yield()
                }
                inShard += 1
                let scrape = scrapes[scrapes.count - 1]
                let rl = sl + [("address", r.server.address.description), ("port", String(r.server.port))]
                scrape.counter("lvsh_real_connections", rl, r.stats.connections)
                scrape.counter("lvsh_real_packets_in", rl, r.stats.packetsIn)
                scrape.counter("lvsh_real_packets_out", rl, r.stats.packetsOut)
                scrape.counter("lvsh_real_bytes_in", rl, r.stats.bytesIn)
                scrape.counter("lvsh_real_bytes_out", rl, r.stats.bytesOut)
                scrape.gauge("lvsh_real_active_connections", rl, Double(r.activeConnections))
                scrape.gauge("lvsh_real_inactive_connections", rl, Double(r.inactiveConnections))
                scrape.gauge("lvsh_real_weight", rl, Double(r.server.weight))
                if let w = wanted[s.service.key]?[r.server.identity] { scrape.gauge("lvsh_real_desired_weight", rl, Double(w)) }
                scrape.gauge("lvsh_real_up", rl, up(RealReference(service: s.service.key, real: r.server.identity)) ? 1 : 0)
            }
        }
        for (n, (key, count)) in failures.enumerated() {
            if n % (shard * 10) == 0 { scrapes.append(Scrape()) }
            scrapes[scrapes.count - 1].counter("lvsh_check_failures", [("kind", key.kind), ("address", key.address?.description ?? ""),
                                                                        ("port", String(key.port))], count)
        }
        let scrape = scrapes[0]
        scrape.counter("lvsh_reconcile_runs", [], UInt64(daemon.reconcileRuns))
        scrape.counter("lvsh_drift_corrected", [], UInt64(daemon.driftCorrected))
        scrape.counter("lvsh_drift_seen", [], UInt64(daemon.driftSeen))
        scrape.counter("lvsh_config_reloads", [("result", "success")], UInt64(daemon.reloads - daemon.reloadFailures))
        scrape.counter("lvsh_config_reloads", [("result", "failure")], UInt64(daemon.reloadFailures))
        scrape.counter("lvsh_kernel_writes", [], UInt64(daemon.writes))
        scrape.gauge("lvsh_config_last_reload_success_timestamp_seconds", [], Double(daemon.lastReloadSuccess))
        var texts: [[UInt8]] = scrapes.map { s in
            var out: [UInt8] = []
            s.registry.emit(into: &out)
            return out
        }
        var own: [UInt8] = []
        registry.emit(into: &own)
        texts.append(own)
        return Self.joined(texts)
    }

    /// Prometheus texts of several registries as one: each family's HELP and TYPE once, then its
    /// samples from every text in turn (the format wants a family's lines together).
    static func joined(_ texts: [[UInt8]]) -> [UInt8] {
        if texts.count == 1 { return texts[0] }
        var order: [Substring] = []
        var families: [Substring: (header: [Substring], samples: [Substring])] = [:]
        for text in texts {
            var current: Substring = ""
            for line in String(decoding: text, as: UTF8.self).split(separator: "\n") {
                if line.hasPrefix("# ") {
                    // "# HELP name …" or "# TYPE name …": the family's name is the third word.
                    current = line.split(separator: " ", maxSplits: 3).dropFirst(2).first ?? ""
                }
                if families[current] == nil {
                    families[current] = ([], [])
                    order.append(current)
                }
                if line.hasPrefix("# ") {
                    if !families[current]!.header.contains(where: { $0.prefix(7) == line.prefix(7) }) { families[current]!.header.append(line) }
                } else {
                    families[current]!.samples.append(line)
                }
            }
        }
        var out: [UInt8] = []
        for name in order {
            let f = families[name]!
            for line in f.header + f.samples {
                out += line.utf8
                out.append(UInt8(ascii: "\n"))
            }
        }
        return out
    }

    /// One scrape's registry of the kernel's series.
    private struct Scrape {
        let registry = PrometheusCollectorRegistry()

        func counter(_ base: String, _ labels: [(String, String)], _ value: UInt64) {
            let c = registry.makeCounter(descriptor: KernelMetrics.descriptor(base + "_total"), labels: labels)
            if value > 0 { c.increment(by: Int64(clamping: value)) }
        }

        func gauge(_ name: String, _ labels: [(String, String)], _ value: Double) {
            registry.makeGauge(descriptor: KernelMetrics.descriptor(name), labels: labels).set(to: value)
        }
    }

    /// The whole name as the metric name: the unit is part of it already (`_total`, `_seconds`).
    static func descriptor(_ name: String) -> MetricNameDescriptor {
        MetricNameDescriptor(metricName: name, unitName: "", helpText: help[name] ?? name)
    }
}
