import Health
import Testing

@Suite("One check: rise and fall")
struct CheckStateTests {
    func result(_ ok: Bool, _ ms: Int64) -> ProbeResult { ProbeResult(ok: ok, reason: ok ? "ok" : "no", at: HealthTime(milliseconds: ms)) }

    @Test func riseBringsDownUpAfterConsecutiveSuccesses() {
        var c = CheckState(state: .down, since: HealthTime(milliseconds: 0))
        #expect(c.record(result(true, 1), rise: 3, fall: 2) == nil)
        #expect(c.record(result(true, 2), rise: 3, fall: 2) == nil)
        #expect(c.record(result(true, 3), rise: 3, fall: 2) == .down)
        #expect(c.state == .up)
        #expect(c.since == HealthTime(milliseconds: 3))
    }

    @Test func aFailureResetsTheRiseCount() {
        var c = CheckState(state: .down, since: HealthTime(milliseconds: 0))
        _ = c.record(result(true, 1), rise: 2, fall: 2)
        _ = c.record(result(false, 2), rise: 2, fall: 2)
        _ = c.record(result(true, 3), rise: 2, fall: 2)
        #expect(c.state == .down)
        _ = c.record(result(true, 4), rise: 2, fall: 2)
        #expect(c.state == .up)
    }

    @Test func fallTakesUpDownAndSuccessResetsTheCount() {
        var c = CheckState(state: .up, since: HealthTime(milliseconds: 0))
        _ = c.record(result(false, 1), rise: 2, fall: 3)
        _ = c.record(result(false, 2), rise: 2, fall: 3)
        _ = c.record(result(true, 3), rise: 2, fall: 3)
        _ = c.record(result(false, 4), rise: 2, fall: 3)
        _ = c.record(result(false, 5), rise: 2, fall: 3)
        #expect(c.state == .up)
        #expect(c.failures == 2)
        #expect(c.record(result(false, 6), rise: 2, fall: 3) == .up)
        #expect(c.state == .down)
    }

    @Test func unknownGoesUpAtTheFirstSuccessAndDownAfterFall() {
        var a = CheckState(state: .unknown, since: HealthTime(milliseconds: 0))
        #expect(a.record(result(true, 1), rise: 5, fall: 5) == .unknown)
        #expect(a.state == .up)
        var b = CheckState(state: .unknown, since: HealthTime(milliseconds: 0))
        _ = b.record(result(false, 1), rise: 2, fall: 2)
        #expect(b.state == .unknown)
        _ = b.record(result(false, 2), rise: 2, fall: 2)
        #expect(b.state == .down)
    }

    @Test func lastResultIsKept() {
        var c = CheckState(state: .up, since: HealthTime(milliseconds: 0))
        _ = c.record(ProbeResult(ok: false, reason: "status 503", milliseconds: 12, at: HealthTime(milliseconds: 9)), rise: 1, fall: 3)
        #expect(c.last?.reason == "status 503")
        #expect(c.last?.milliseconds == 12)
    }
}
