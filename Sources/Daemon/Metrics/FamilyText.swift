import NIOCore
import Prometheus

/// One Prometheus metric family written from values read at the scrape, through swift-prometheus
/// registries of at most `chunk` series that live only while their text is made.
///
/// Kept from scrape to scrape, each series was a swift-prometheus object with its labels, two
/// atomics and a prerendered line: the ten series of a real server held 4.3 kB, six times what
/// keepalived's checker holds for a whole real server. Made at each scrape in small registries, one
/// chunk's memory serves the next; and since a registry copies its family's dictionary for each
/// series it adds, a small one keeps that quadratic cost small.
enum FamilyText {
    static let chunk = 32

    /// Counters named `name`, one per index below `count`, help text from KernelMetrics.help.
    static func counters(_ name: String, count: Int, into out: inout ByteBuffer,
                         labels: (Int) -> [(String, String)], value: (Int) -> UInt64) {
        let descriptor = KernelMetrics.descriptor(name)
        emit(count: count, into: &out) { registry, i in
            registry.makeCounter(descriptor: descriptor, labels: labels(i)).set(value(i))
        }
    }

    /// Gauges named `name`, one per index below `count`, help text from KernelMetrics.help.
    static func gauges(_ name: String, count: Int, into out: inout ByteBuffer,
                       labels: (Int) -> [(String, String)], value: (Int) -> Double) {
        let descriptor = KernelMetrics.descriptor(name)
        emit(count: count, into: &out) { registry, i in
            registry.makeGauge(descriptor: descriptor, labels: labels(i)).set(to: value(i))
        }
    }

    /// The family's text: HELP and TYPE once (from the first chunk), then every chunk's samples. A
    /// family without series writes nothing.
    private static func emit(count: Int, into out: inout ByteBuffer, add: (PrometheusCollectorRegistry, Int) -> Void) {
        var header = false
        var text: [UInt8] = []
        var start = 0
        while start < count {
            let end = min(start + chunk, count)
            let registry = PrometheusCollectorRegistry()
            for i in start..<end { add(registry, i) }
            text.removeAll(keepingCapacity: true)
            registry.emit(into: &text)
            var skip = 0
            if header {
                while skip < text.count, text[skip] == UInt8(ascii: "#") {
                    skip = (text[skip...].firstIndex(of: UInt8(ascii: "\n")) ?? text.count - 1) + 1
                }
            } else {
                header = !text.isEmpty
            }
            out.writeBytes(text[skip...])
            start = end
        }
    }
}

extension Counter {
    /// Sets the counter to a value counted elsewhere (the kernel's, or the daemon's own tally).
    func set(_ value: UInt64) {
        reset()
        if value > 0 { increment(by: Int64(clamping: value)) }
    }
}
