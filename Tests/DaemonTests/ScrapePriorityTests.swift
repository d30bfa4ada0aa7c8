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

@Suite("A scrape's reader")
struct ScrapeReaderTests {
    /// Holds every write, as a socket whose reader stopped reading does; a close fails them, as
    /// NIO's socket channels fail their pending writes.
    final class HoldWrites: ChannelOutboundHandler, @unchecked Sendable {
        typealias OutboundIn = Any
        private var held: [EventLoopPromise<Void>] = []

        func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
            if let promise { held.append(promise) }
        }

        func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
            held.forEach { $0.fail(ChannelError.ioOnClosedChannel) }
            held = []
            context.close(mode: mode, promise: promise)
        }
    }

    /// A reader that stops reading is cut off after the stall limit, and the scrape learns it is gone
    /// (so it stops making text and lets go of its copy of the table).
    @Test(.timeLimit(.minutes(1))) func aReaderThatStopsReadingIsCutOff() async throws {
        let channel = NIOAsyncTestingChannel()
        try await channel.pipeline.addHandler(HoldWrites())
        try await channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 9542))
        #expect(channel.isActive)
        let sent = Task { await ScrapeHandler.send(channel, .body(.byteBuffer(ByteBuffer(string: "x"))), stallLimit: .seconds(30)) }
        // The cut-off is scheduled just after the write: move the clock until it has run.
        for _ in 0..<500 where channel.isActive {
            await channel.testingEventLoop.advanceTime(by: .seconds(31))
            try await Task.sleep(for: .milliseconds(10))
        }
        #expect(await sent.value == false)
        #expect(!channel.isActive)
    }
}
