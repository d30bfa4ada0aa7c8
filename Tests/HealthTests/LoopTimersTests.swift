@testable import Health
import NIOCore
import NIOEmbedded
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
}
