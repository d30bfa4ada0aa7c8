import Prometheus

/// One Prometheus metric family kept in registries of at most `capacity` series each, emitted as one
/// family. swift-prometheus copies a family's whole dictionary for each series it adds or removes, so a
/// family of 10,000 series in one registry costs 10,000²/2 copies to build.
final class ShardedFamily<Metric: AnyObject> {
    /// A series and the registry that holds it.
    struct Handle {
        let metric: Metric
        fileprivate let shard: Int32
    }

    static var capacity: Int { 64 }

    private let make: (PrometheusCollectorRegistry, [(String, String)]) -> Metric
    private let unregister: (PrometheusCollectorRegistry, Metric) -> Void
    private var shards: [(registry: PrometheusCollectorRegistry, count: Int)] = []
    /// A shard with room, if known; found again by a scan when it fills (rare: once per `capacity` adds).
    private var roomy: Int?

    init(make: @escaping (PrometheusCollectorRegistry, [(String, String)]) -> Metric,
         unregister: @escaping (PrometheusCollectorRegistry, Metric) -> Void) {
        self.make = make
        self.unregister = unregister
    }

    var count: Int { shards.reduce(0) { $0 + $1.count } }

    func add(_ labels: [(String, String)]) -> Handle {
        if roomy == nil || shards[roomy!].count >= Self.capacity {
            roomy = shards.firstIndex { $0.count < Self.capacity }
            if roomy == nil {
                shards.append((PrometheusCollectorRegistry(), 0))
                roomy = shards.count - 1
            }
        }
        let n = roomy!
        shards[n].count += 1
        return Handle(metric: make(shards[n].registry, labels), shard: Int32(n))
    }

    func remove(_ handle: Handle) {
        let n = Int(handle.shard)
        unregister(shards[n].registry, handle.metric)
        shards[n].count -= 1
        if roomy == nil { roomy = n }
    }

    /// The family's text: HELP and TYPE once (from the first shard that has series), then every
    /// shard's samples.
    func emit(into out: inout [UInt8]) {
        var header = false
        for shard in shards where shard.count > 0 {
            let start = out.count
            shard.registry.emit(into: &out)
            guard header else {
                header = out.count > start
                continue
            }
            var end = start
            while end < out.count, out[end] == UInt8(ascii: "#") {
                end = (out[end...].firstIndex(of: UInt8(ascii: "\n")) ?? out.count - 1) + 1
            }
            out.removeSubrange(start..<end)
        }
    }
}

extension ShardedFamily where Metric == Counter {
    /// Counters named `name`, help text from KernelMetrics.help.
    convenience init(counter name: String) {
        self.init(make: { $0.makeCounter(descriptor: KernelMetrics.descriptor(name), labels: $1) },
                  unregister: { $0.unregisterCounter($1) })
    }
}

extension ShardedFamily where Metric == Gauge {
    /// Gauges named `name`, help text from KernelMetrics.help.
    convenience init(gauge name: String) {
        self.init(make: { $0.makeGauge(descriptor: KernelMetrics.descriptor(name), labels: $1) },
                  unregister: { $0.unregisterGauge($1) })
    }
}

extension Counter {
    /// Sets the counter to a value counted elsewhere (the kernel's, or the daemon's own tally).
    func set(_ value: UInt64) {
        reset()
        if value > 0 { increment(by: Int64(clamping: value)) }
    }
}
