import Glibc
@testable import Health
import NIOCore
import NIOEmbedded
import NIOPosix
import Testing

@Suite("LoopTimers: the probes' timers on the 20 ms grid")
struct LoopTimersTests {
    @Test func callbacksRunInTheirSlotInOrderWithTheirLateness() {
        let loop = EmbeddedEventLoop()
        let timers = LoopTimers.of(loop)
        var ran: [(String, Int64)] = []
        timers.schedule(at: loop.now + .milliseconds(45)) { late in ran.append(("b", late.nanoseconds)) }
        timers.schedule(at: loop.now + .milliseconds(30)) { late in ran.append(("a", late.nanoseconds)) }
        timers.schedule(at: loop.now + .milliseconds(60)) { late in ran.append(("c", late.nanoseconds)) }
        loop.advanceTime(by: .milliseconds(39))
        #expect(ran.isEmpty) // 30 ms falls in the slot at 40 ms
        loop.advanceTime(by: .milliseconds(1))
        #expect(ran.map(\.0) == ["a"])
        loop.advanceTime(by: .milliseconds(20))
        #expect(ran.map(\.0) == ["a", "b", "c"])
        #expect(ran.allSatisfy { $0.1 == 0 })
    }

    @Test func anEarlierTimerAddedAfterALaterOneIsNotHeldBack() {
        let loop = EmbeddedEventLoop()
        let timers = LoopTimers.of(loop)
        var ran: [Int] = []
        timers.schedule(at: loop.now + .seconds(10)) { _ in ran.append(10) }
        timers.schedule(at: loop.now + .milliseconds(100)) { _ in ran.append(1) }
        loop.advanceTime(by: .milliseconds(100))
        #expect(ran == [1])
        loop.advanceTime(by: .seconds(10))
        #expect(ran == [1, 10])
        // The later task that was armed first finds nothing more to do.
        loop.advanceTime(by: .seconds(10))
        #expect(ran == [1, 10])
    }

    @Test func aCallbackMayScheduleTheNextOne() {
        let loop = EmbeddedEventLoop()
        let timers = LoopTimers.of(loop)
        var count = 0
        func again(_ late: TimeAmount) {
            count += 1
            timers.schedule(at: loop.now + .milliseconds(100), again)
        }
        timers.schedule(at: loop.now, again)
        loop.run()
        loop.advanceTime(by: .milliseconds(1000))
        #expect(count == 11)
    }

    @Test func tenThousandTimersAllRunAtTheirSlots() {
        let loop = EmbeddedEventLoop()
        let timers = LoopTimers.of(loop)
        var ran = 0, wrong = 0
        for n in 0..<10_000 {
            let deadline = loop.now + .milliseconds(Int64(n % 10_000))
            timers.schedule(at: deadline) { _ in
                ran += 1
                if loop.now < deadline || loop.now - deadline >= .milliseconds(20) { wrong += 1 }
            }
        }
        loop.advanceTime(by: .seconds(10))
        #expect(ran == 10_000)
        #expect(wrong == 0)
    }

    /// Slots that each take longer than a slot do not keep the loop from its sockets: NIO runs every
    /// due task before it polls again, so without a gap the next slot, already due, ran at once, and
    /// the next. Here the first slot writes into a pipe the loop reads, and ten slots each take 30 ms:
    /// the byte is read before the last of them runs.
    @Test func slowSlotsLetTheLoopReadItsSockets() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let loop = group.next()
        var fds: [Int32] = [0, 0]
        #expect(pipe(&fds) == 0)
        let writeEnd = fds[1]
        let log = EventLog()
        let channel = try await NIOPipeBootstrap(group: loop)
            .channelInitializer { channel in channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(PipeReader(log: log)) } }
            .takingOwnershipOfDescriptor(input: fds[0]).get()
        try await loop.submit {
            let timers = LoopTimers.of(loop)
            for n in 0..<10 {
                timers.schedule(at: loop.now + .milliseconds(Int64(20 * n))) { _ in
                    if n == 0 { _ = write(writeEnd, "x", 1) }
                    log.events.append("slot \(n)")
                    usleep(30_000)
                }
            }
        }.get()
        try await Task.sleep(for: .milliseconds(800))
        let events = try await loop.submit { log.events }.get()
        #expect(events.count == 11 && events.firstIndex(of: "read")! < 10, "\(events)")
        try await channel.close()
        close(writeEnd)
        try await group.shutdownGracefully()
    }
}

/// What happened on a loop, in order (touched only on the loop).
final class EventLog: @unchecked Sendable {
    var events: [String] = []
}

final class PipeReader: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    let log: EventLog
    init(log: EventLog) { self.log = log }
    func channelRead(context: ChannelHandlerContext, data: NIOAny) { log.events.append("read") }
}
