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
    static func counters(_ name: String, count: Int, into out: inout ScrapeWriter,
                         labels: (Int) -> [(String, String)], value: (Int) -> UInt64) async {
        let descriptor = KernelMetrics.descriptor(name)
        await emit(count: count, into: &out) { registry, i in
            registry.makeCounter(descriptor: descriptor, labels: labels(i)).set(value(i))
        }
    }

    /// Gauges named `name`, one per index below `count`, help text from KernelMetrics.help.
    static func gauges(_ name: String, count: Int, into out: inout ScrapeWriter,
                       labels: (Int) -> [(String, String)], value: (Int) -> Double) async {
        let descriptor = KernelMetrics.descriptor(name)
        await emit(count: count, into: &out) { registry, i in
            registry.makeGauge(descriptor: descriptor, labels: labels(i)).set(to: value(i))
        }
    }

    /// The family's text: HELP and TYPE once (from the first chunk), then every chunk's samples. A
    /// family without series writes nothing; a writer whose reader is gone stops it.
    private static func emit(count: Int, into out: inout ScrapeWriter, add: (PrometheusCollectorRegistry, Int) -> Void) async {
        var header = false
        var text: [UInt8] = []
        var start = 0
        while start < count, out.open {
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
            await out.write(text[skip...])
            start = end
        }
    }
}

/// Where a scrape's text goes, a part at a time: the call returns once the part is on its way (the
/// reader's pace holds the writer back), with false when the reader is gone.
public typealias ScrapeSink = @Sendable (ByteBuffer) async -> Bool

/// A scrape's text on its way to its reader, in parts of about `partBytes`.
///
/// Made whole, the text at 10,000 real servers was 8.7 MB, with the labels it was made from beside
/// it; glibc kept that memory for the next scrape, and it was most of the daemon's resident memory
/// per real server. In parts, a scrape holds one part.
struct ScrapeWriter {
    static let partBytes = 64 * 1024
    private var buffer = ByteBufferAllocator().buffer(capacity: ScrapeWriter.partBytes + 8_192)
    private let sink: ScrapeSink
    /// False once the reader is gone: nothing more is made.
    private(set) var open = true

    init(_ sink: @escaping ScrapeSink) { self.sink = sink }

    mutating func write(_ bytes: some Sequence<UInt8>) async {
        buffer.writeBytes(bytes)
        if buffer.readableBytes >= Self.partBytes { await flush() }
    }

    /// Hands what is buffered on, and waits until it is on its way.
    mutating func flush() async {
        guard open, buffer.readableBytes > 0 else { return }
        open = await sink(buffer)
        // The sink's write has finished with the part: the same storage takes the next one.
        buffer.clear()
    }
}

extension Counter {
    /// Sets the counter to a value counted elsewhere (the kernel's, or the daemon's own tally).
    func set(_ value: UInt64) {
        reset()
        if value > 0 { increment(by: Int64(clamping: value)) }
    }
}
