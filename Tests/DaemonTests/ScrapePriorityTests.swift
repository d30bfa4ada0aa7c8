@testable import Daemon
import NIOCore
import NIOEmbedded
import NIOHTTP1
import Testing

@Suite("The scrape's task")
struct ScrapePriorityTests {
    /// A request arriving on an event loop thread (here: from a low-priority task) is answered by a
    /// task at the daemon's priority, not the caller's: at a lower one, Swift kept it waiting for
    /// minutes behind the probes' results on a one-CPU machine.
    @Test func runsAtTheDaemonsPriority() async throws {
        let (seen, sink) = AsyncStream<TaskPriority>.makeStream()
        try await Task.detached(priority: .low) {
            let channel = EmbeddedChannel(handler: ScrapeHandler(scrape: { _ in
                sink.yield(Task.currentPriority)
            }))
            try channel.writeInbound(HTTPServerRequestPart.head(HTTPRequestHead(version: .http1_1, method: .GET, uri: "/metrics")))
            try channel.writeInbound(HTTPServerRequestPart.end(nil))
        }.value
        var priorities = seen.makeAsyncIterator()
        #expect(await priorities.next() == DaemonService.priority)
    }
}
