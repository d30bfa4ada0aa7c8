import Engine
import Health
import LVSModel
import Prometheus

/// Prometheus series of the daemon: the probes' histograms in `registry` and their failure counts,
/// recorded on the daemon's actor, and the kernel's series (`KernelSeries`), set at each scrape.
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
        "lvsh_check_ring_spills_total": "Probes that found every io_uring slot busy and took a socket channel instead.",
    ]

    /// Probe durations by kind; failures by kind, address and port. These are the daemon's own
    /// counts (not the kernel's), kept for the daemon's life.
    private var durations: [String: DurationHistogram] = [:]
    private lazy var lateness = registry.makeDurationHistogram(descriptor: Self.descriptor("lvsh_check_lateness_seconds"),
                                                               buckets: Self.durationBuckets)
    /// Failed probes by what was probed: counted here, on the daemon's actor, and handed to each
    /// scrape, since a series added to a registry for each newly failing address costs a copy of the
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

    /// The kernel's series, kept between scrapes.
    let series = KernelSeries()

    /// The whole name as the metric name: the unit is part of it already (`_total`, `_seconds`).
    static func descriptor(_ name: String) -> MetricNameDescriptor {
        MetricNameDescriptor(metricName: name, unitName: "", helpText: help[name] ?? name)
    }
}
