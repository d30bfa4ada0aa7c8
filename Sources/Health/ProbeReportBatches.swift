import Synchronization

/// The scheduler's reports as batches: each probe's result is added on its event loop; the daemon's
/// task takes everything gathered so far when it is ready for more. One wake-up is pending at most,
/// so under load the hand-overs between the loops and the daemon stay few while the batches grow.
public final class ProbeReportBatches: AsyncSequence, Sendable {
    public typealias Element = [ProbeReport]
    private let buffer = Mutex<[ProbeReport]>([])
    private let wakes: AsyncStream<Void>
    private let wake: AsyncStream<Void>.Continuation

    init() {
        (wakes, wake) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    func add(_ report: ProbeReport) {
        let first = buffer.withLock { b in
            b.append(report)
            return b.count == 1
        }
        if first { wake.yield() }
    }

    /// Ends the sequence once what is gathered has been taken.
    public func finish() { wake.finish() }

    private func take() -> [ProbeReport] {
        buffer.withLock { b in
            var taken: [ProbeReport] = []
            swap(&taken, &b)
            return taken
        }
    }

    public struct AsyncIterator: AsyncIteratorProtocol {
        let batches: ProbeReportBatches
        var wakes: AsyncStream<Void>.AsyncIterator

        public mutating func next() async -> [ProbeReport]? {
            while await wakes.next() != nil {
                let batch = batches.take()
                if !batch.isEmpty { return batch }
            }
            return nil
        }
    }

    public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(batches: self, wakes: wakes.makeAsyncIterator()) }
}
