@testable import Health
import LVSModel
import Testing

@Suite("Reconfiguration keeps what did not change")
struct ReconfigureTests {
    @Test func unchangedRealServersAndChecksKeepStateAndCounts() {
        let web = webService(weights: [5, 5])
        var clock = VirtualClock()
        var m = HealthMonitor()
        let c = config(web, checks: [tcpCheck(rise: 2, fall: 3)])
        m.reconfigure(services: [web], config: c, at: clock.now)
        m.feed(ref(web, 0), ok: true, count: 2, clock: &clock)
        m.feed(ref(web, 0), ok: false, count: 2, clock: &clock)
        let since = m.reports()[0].since
        let again = m.reconfigure(services: [web], config: c, at: clock.advance())
        #expect(again.isEmpty)
        #expect(m.reports()[0].since == since)
        #expect(m.reports()[0].checks[0].failures == 2)
        // The third failure still counts toward fall.
        m.feed(ref(web, 0), ok: false, clock: &clock)
        #expect(m.state(of: ref(web, 0)) == .down)
    }

    @Test func aChangedDesiredWeightChangesOnlyThatService() {
        let web = webService(weights: [5, 5])
        let api = webService(port: 443, weights: [2])
        var clock = VirtualClock()
        var m = HealthMonitor()
        var c = config(web, checks: [tcpCheck(rise: 1)])
        c.serviceChecks[api.service.key] = ["web"]
        m.reconfigure(services: [web, api], config: c, at: clock.now)
        for (s, i) in [(web, 0), (web, 1), (api, 0)] { m.feed(ref(s, i), ok: true, clock: &clock) }
        var heavier = web
        heavier.realServers[1].server.weight = 9
        let change = m.reconfigure(services: [heavier, api], config: c, at: clock.advance())
        #expect(change.services == [web.service.key])
        #expect(change.reals.isEmpty)
        #expect(m.weights(web.service.key) == ["10.0.1.1": 5, "10.0.1.2": 9])
    }

    @Test func aNewRealServerIsAddedWithAlphaAndAGoneOneIsForgotten() {
        let web = webService(weights: [5])
        var clock = VirtualClock()
        var m = HealthMonitor()
        let c = config(web, checks: [tcpCheck(rise: 1)])
        m.reconfigure(services: [web], config: c, at: clock.now)
        m.feed(ref(web, 0), ok: true, clock: &clock)
        let bigger = webService(weights: [5, 5])
        let change = m.reconfigure(services: [bigger], config: c, at: clock.advance())
        #expect(change.reals.map(\.ref) == [ref(bigger, 1)])
        #expect(change.reals[0].from == nil && change.reals[0].to == .down)
        #expect(m.state(of: ref(bigger, 0)) == .up)
        let smaller = webService(weights: [5])
        m.reconfigure(services: [smaller], config: c, at: clock.advance())
        #expect(m.state(of: ref(bigger, 1)) == nil)
        #expect(m.plan.probes.count == 1)
    }

    /// Records are kept by place; a real server that moved within its service, or a service that
    /// moved in the table, keeps its state and counts.
    @Test func realServersAndServicesThatMoveKeepTheirState() {
        let web = webService(weights: [1, 2, 3])
        let api = webService(port: 443, weights: [4])
        var clock = VirtualClock()
        var m = HealthMonitor()
        var c = config(web, checks: [tcpCheck(rise: 1, fall: 2)])
        c.serviceChecks[api.service.key] = ["web"]
        m.reconfigure(services: [web, api], config: c, at: clock.now)
        for (s, i) in [(web, 0), (web, 1), (web, 2), (api, 0)] { m.feed(ref(s, i), ok: true, clock: &clock) }
        m.feed(ref(web, 1), ok: false, count: 2, clock: &clock)
        m.feed(ref(web, 2), ok: false, clock: &clock)
        // The first real server leaves, the other two swap places, and api comes first.
        var moved = web
        moved.realServers = [web.realServers[2], web.realServers[1]]
        let change = m.reconfigure(services: [api, moved], config: c, at: clock.advance())
        #expect(change.reals.isEmpty)
        #expect(m.state(of: ref(web, 1)) == .down)
        #expect(m.state(of: ref(web, 2)) == .up)
        #expect(m.state(of: ref(web, 0)) == nil)
        #expect(m.state(of: ref(api, 0)) == .up)
        // The second failure in a row of the third real server still takes it down: its count moved with it.
        let down = m.feed(ref(web, 2), ok: false, clock: &clock)
        #expect(down.reals.map(\.ref) == [ref(web, 2)])
        #expect(m.weights(web.service.key) == ["10.0.1.3": 0, "10.0.1.2": 0])
        #expect(m.reports().map(\.ref) == [ref(api, 0), ref(web, 2), ref(web, 1)])
        // What the daemon keeps of a written service gives the service back.
        let weights = m.effectiveWeights(web.service.key)!
        #expect(weights.weights == [0, 0] && !weights.sorryIn)
        #expect(m.effectiveService(web.service.key, weights: weights) == m.effectiveService(web.service.key))
    }

    @Test func aRedefinedCheckStartsUnknownAndKeepsTheWeightOfAnUpServer() {
        let web = webService(weights: [5])
        var clock = VirtualClock()
        var m = HealthMonitor()
        m.reconfigure(services: [web], config: config(web, checks: [tcpCheck(rise: 1)]), at: clock.now)
        m.feed(ref(web, 0), ok: true, clock: &clock)
        var redefined = tcpCheck(rise: 3)
        redefined.port = 8081
        let change = m.reconfigure(services: [web], config: config(web, checks: [redefined]), at: clock.advance())
        #expect(change.reals.map(\.to) == [.unknown])
        #expect(change.services.isEmpty)
        #expect(m.weights(web.service.key) == ["10.0.1.1": 5])
        #expect(m.key(ref(web, 0)).port == 8081)
        m.feed(ref(web, 0), ok: true, clock: &clock)
        #expect(m.state(of: ref(web, 0)) == .up)
    }

    @Test func aRedefinedCheckOfADownServerStartsDown() {
        let web = webService(weights: [5])
        var clock = VirtualClock()
        var m = HealthMonitor()
        m.reconfigure(services: [web], config: config(web, checks: [tcpCheck(rise: 1)]), at: clock.now)
        var redefined = tcpCheck(rise: 2)
        redefined.timeoutMilliseconds = 300
        let change = m.reconfigure(services: [web], config: config(web, checks: [redefined]), at: clock.advance())
        #expect(change.isEmpty)
        #expect(m.state(of: ref(web, 0)) == .down)
        m.feed(ref(web, 0), ok: true, clock: &clock)
        #expect(m.state(of: ref(web, 0)) == .down)
        m.feed(ref(web, 0), ok: true, clock: &clock)
        #expect(m.state(of: ref(web, 0)) == .up)
    }

    @Test func rebindingOnlyRiseAndFallKeepsTheProbeAndItsState() {
        let web = webService(weights: [5])
        var clock = VirtualClock()
        var m = HealthMonitor()
        m.reconfigure(services: [web], config: config(web, checks: [tcpCheck(rise: 1)]), at: clock.now)
        m.feed(ref(web, 0), ok: true, clock: &clock)
        let change = m.reconfigure(services: [web], config: config(web, checks: [tcpCheck(rise: 5, fall: 1)]), at: clock.advance())
        #expect(change.isEmpty)
        m.feed(ref(web, 0), ok: false, clock: &clock)
        #expect(m.state(of: ref(web, 0)) == .down)
    }

    @Test func removingAllChecksBringsTheRealServerUp() {
        let web = webService(weights: [5])
        var clock = VirtualClock()
        var m = HealthMonitor()
        m.reconfigure(services: [web], config: config(web, checks: [tcpCheck()]), at: clock.now)
        let change = m.reconfigure(services: [web], config: HealthConfig(), at: clock.advance())
        #expect(change.reals.map(\.to) == [.up])
        #expect(change.services == [web.service.key])
        #expect(m.probes.isEmpty)
    }

    @Test func aRemovedServiceIsReportedChanged() {
        let web = webService(weights: [5])
        var m = HealthMonitor()
        m.reconfigure(services: [web], config: HealthConfig(), at: VirtualClock().now)
        let change = m.reconfigure(services: [], config: HealthConfig(), at: VirtualClock().now)
        #expect(change.services == [web.service.key])
        #expect(m.effectiveServices().isEmpty)
    }
}
