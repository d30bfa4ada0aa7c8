@testable import Health
import LVSModel
import Testing

@Suite("Quorum, hysteresis and the sorry server")
struct QuorumTests {
    /// Four real servers of weight 1, all up; quorum 3 with hysteresis 1; a sorry server.
    func upService(onFailure: FailureAction = .weight0) -> (HealthMonitor, ServiceStatus, VirtualClock) {
        let web = webService(weights: [1, 1, 1, 1])
        var policy = ServiceHealthPolicy()
        policy.quorum = 3
        policy.hysteresis = 1
        policy.onFailure = onFailure
        policy.sorry = RealServerKey(address: IPAddress("10.0.9.9")!, port: 0)
        var clock = VirtualClock()
        var m = HealthMonitor()
        m.reconfigure(services: [web], config: config(web, checks: [tcpCheck(rise: 1, fall: 1)], policy: policy), at: clock.now)
        for i in 0..<4 { m.feed(ref(web, i), ok: true, clock: &clock) }
        return (m, web, clock)
    }

    @Test func alphaStartsWithQuorumLostAndTheSorryServerIn() {
        let web = webService(weights: [1, 1])
        var policy = ServiceHealthPolicy()
        policy.sorry = RealServerKey(address: IPAddress("10.0.9.9")!, port: 0)
        var clock = VirtualClock()
        var m = HealthMonitor()
        let start = m.reconfigure(services: [web], config: config(web, checks: [tcpCheck(rise: 1, fall: 1)], policy: policy), at: clock.now)
        #expect(start.quorum.map(\.lost) == [true])
        #expect(m.quorumLost(web.service.key))
        #expect(m.weights(web.service.key) == ["10.0.1.1": 0, "10.0.1.2": 0, "10.0.9.9": 1])
        let sorry = m.effectiveService(web.service.key)!.realServers.last!.server
        #expect(sorry.port == 80)
        #expect(sorry.forwarding == .masquerade)
        // Quorum 0: any live weight regains it, and the sorry server leaves.
        let up = m.feed(ref(web, 0), ok: true, clock: &clock)
        #expect(up.quorum.map(\.lost) == [false])
        #expect(up.services == [web.service.key])
        #expect(m.weights(web.service.key) == ["10.0.1.1": 1, "10.0.1.2": 0])
    }

    @Test func quorumIsLostBelowQuorumMinusHysteresis() {
        var (m, web, clock) = upService()
        #expect(!m.quorumLost(web.service.key))
        // 4 → 3 → 2: still at or above 3 − 1.
        #expect(m.feed(ref(web, 0), ok: false, clock: &clock).quorum.isEmpty)
        #expect(m.feed(ref(web, 1), ok: false, clock: &clock).quorum.isEmpty)
        #expect(!m.quorumLost(web.service.key))
        // 1 < 2: lost; the live one is taken out (weight 0) and the sorry server comes in.
        let lost = m.feed(ref(web, 2), ok: false, clock: &clock)
        #expect(lost.quorum.count == 1)
        #expect(lost.quorum[0].lost && lost.quorum[0].weightSum == 1 && lost.quorum[0].threshold == 2)
        #expect(m.weights(web.service.key) == ["10.0.1.1": 0, "10.0.1.2": 0, "10.0.1.3": 0, "10.0.1.4": 0, "10.0.9.9": 1])
    }

    @Test func quorumIsRegainedOnlyAtQuorumPlusHysteresis() {
        var (m, web, clock) = upService()
        for i in 0..<3 { m.feed(ref(web, i), ok: false, clock: &clock) }
        #expect(m.quorumLost(web.service.key))
        // 2, then 3: still below 3 + 1.
        #expect(m.feed(ref(web, 0), ok: true, clock: &clock).quorum.isEmpty)
        #expect(m.feed(ref(web, 1), ok: true, clock: &clock).quorum.isEmpty)
        #expect(m.quorumLost(web.service.key))
        #expect(m.weights(web.service.key)["10.0.9.9"] == 1)
        let regained = m.feed(ref(web, 2), ok: true, clock: &clock)
        #expect(regained.quorum.map(\.lost) == [false])
        #expect(regained.quorum[0].threshold == 4)
        #expect(m.weights(web.service.key) == ["10.0.1.1": 1, "10.0.1.2": 1, "10.0.1.3": 1, "10.0.1.4": 1])
    }

    @Test func withRemoveTheRealServersLeaveWhileTheSorryServerServes() {
        var (m, web, clock) = upService(onFailure: .remove)
        for i in 0..<3 { m.feed(ref(web, i), ok: false, clock: &clock) }
        #expect(m.weights(web.service.key) == ["10.0.9.9": 1])
    }

    @Test func quorumCountsDynamicWeightsAndNotDisabledOnes() {
        let web = webService(weights: [1, 1])
        var policy = ServiceHealthPolicy()
        policy.quorum = 10
        var script = HealthCheck(name: "s", probe: .script(["/bin/check"]))
        script.rise = 1
        script.fall = 1
        var clock = VirtualClock()
        var m = HealthMonitor()
        var c = config(web, checks: [script], policy: policy)
        m.reconfigure(services: [web], config: c, at: clock.now)
        m.feed(ref(web, 0), "s", ok: true, clock: &clock, adjustment: .set(4))
        #expect(m.quorumLost(web.service.key))
        let up = m.feed(ref(web, 1), "s", ok: true, clock: &clock, adjustment: .set(6))
        #expect(up.quorum.map(\.lost) == [false])
        c.disabled = [ref(web, 1)]
        let change = m.reconfigure(services: [web], config: c, at: clock.advance())
        #expect(change.quorum.map(\.lost) == [true])
    }

    @Test func aServiceWithoutQuorumPolicyReportsNoQuorumTransitions() {
        let web = webService(weights: [1])
        var clock = VirtualClock()
        var m = HealthMonitor()
        let start = m.reconfigure(services: [web], config: config(web, checks: [tcpCheck(rise: 1, fall: 1)]), at: clock.now)
        #expect(start.quorum.isEmpty)
        #expect(m.feed(ref(web, 0), ok: true, clock: &clock).quorum.isEmpty)
        #expect(m.feed(ref(web, 0), ok: false, clock: &clock).quorum.isEmpty)
    }
}
