@testable import Health
import LVSModel
import Testing

@Suite("Real servers: alpha, adoption, several checks, dynamic weights, failure actions, maintenance")
struct HealthMonitorTests {
    @Test func alphaKeepsAnAddedRealServerOutUntilRiseSuccesses() {
        let web = webService(weights: [5, 3])
        var clock = VirtualClock()
        var m = HealthMonitor()
        let start = m.reconfigure(services: [web], config: config(web, checks: [tcpCheck(rise: 2)]), at: clock.now)
        #expect(m.state(of: ref(web, 0)) == .down)
        #expect(start.reals.map(\.to) == [.down, .down])
        #expect(start.reals[0].reason.contains("alpha"))
        #expect(m.weights(web.service.key) == ["10.0.1.1": 0, "10.0.1.2": 0])

        let one = m.feed(ref(web, 0), ok: true, clock: &clock)
        #expect(one.reals.isEmpty && one.services.isEmpty)
        let two = m.feed(ref(web, 0), ok: true, clock: &clock)
        #expect(two.reals.map(\.to) == [.up])
        #expect(two.services == [web.service.key])
        #expect(m.weights(web.service.key) == ["10.0.1.1": 5, "10.0.1.2": 0])
    }

    @Test func withoutAlphaAnAddedRealServerStartsUp() {
        let web = webService(weights: [5])
        var policy = ServiceHealthPolicy()
        policy.alpha = false
        var clock = VirtualClock()
        var m = HealthMonitor()
        m.reconfigure(services: [web], config: config(web, checks: [tcpCheck(fall: 2)], policy: policy), at: clock.now)
        #expect(m.state(of: ref(web, 0)) == .up)
        #expect(m.weights(web.service.key) == ["10.0.1.1": 5])
        m.feed(ref(web, 0), ok: false, clock: &clock)
        #expect(m.state(of: ref(web, 0)) == .up)
        let down = m.feed(ref(web, 0), ok: false, clock: &clock)
        #expect(down.reals.map(\.to) == [.down])
        #expect(down.reals[0].reason == "web: connection refused (2 failures in a row)")
        #expect(m.weights(web.service.key) == ["10.0.1.1": 0])
    }

    @Test func adoptedRealServersKeepTheKernelWeightUntilTheirFirstResult() {
        let web = webService(weights: [5, 5])
        var kernel = web
        kernel.realServers[0].server.weight = 5
        kernel.realServers[1].server.weight = 0
        var clock = VirtualClock()
        var m = HealthMonitor()
        let start = m.reconfigure(services: [web], config: config(web, checks: [tcpCheck(rise: 3, fall: 3)]),
                                  adopting: [kernel], at: clock.now)
        #expect(start.reals.allSatisfy { $0.to == .unknown && $0.reason.hasPrefix("adopted") })
        #expect(m.weights(web.service.key) == ["10.0.1.1": 5, "10.0.1.2": 0])
        // A healthy restart: the first success makes it up, and the effective table does not change.
        let first = m.feed(ref(web, 0), ok: true, clock: &clock)
        #expect(first.reals.map(\.to) == [.up])
        #expect(first.services.isEmpty)
        // The one the kernel had at 0 gets its desired weight at its first success, without rise.
        let second = m.feed(ref(web, 1), ok: true, clock: &clock)
        #expect(second.services == [web.service.key])
        #expect(m.weights(web.service.key) == ["10.0.1.1": 5, "10.0.1.2": 5])
    }

    @Test func anAdoptedRealServerThatFailsGoesDownAfterFall() {
        let web = webService(weights: [5])
        var clock = VirtualClock()
        var m = HealthMonitor()
        m.reconfigure(services: [web], config: config(web, checks: [tcpCheck(fall: 2)]), adopting: [web], at: clock.now)
        m.feed(ref(web, 0), ok: false, clock: &clock)
        #expect(m.state(of: ref(web, 0)) == .unknown)
        #expect(m.weights(web.service.key) == ["10.0.1.1": 5])
        m.feed(ref(web, 0), ok: false, clock: &clock)
        #expect(m.state(of: ref(web, 0)) == .down)
        #expect(m.weights(web.service.key) == ["10.0.1.1": 0])
    }

    @Test func twoChecksWithTheSameProbeShareOneRun() {
        let web = webService(weights: [4])
        var clock = VirtualClock()
        var m = HealthMonitor()
        m.reconfigure(services: [web], config: config(web, checks: [tcpCheck("a", rise: 1, fall: 1), tcpCheck("b", rise: 1, fall: 1)]),
                      at: clock.now)
        // Two checks with the same probe would share one key: give b another port.
        #expect(m.plan.probes.count == 1)
        m.feed(ref(web, 0), "a", ok: true, clock: &clock)
        #expect(m.state(of: ref(web, 0)) == .up)
    }

    @Test func severalDistinctChecksMustAllPass() {
        let web = webService(weights: [4])
        var http = HealthCheck(name: "http", probe: .http(HTTPProbe()))
        http.rise = 1
        http.fall = 1
        var clock = VirtualClock()
        var m = HealthMonitor()
        m.reconfigure(services: [web], config: config(web, checks: [tcpCheck("tcp", rise: 1, fall: 1), http]), at: clock.now)
        #expect(m.plan.probes.count == 2)
        m.feed(ref(web, 0), "tcp", ok: true, clock: &clock)
        #expect(m.state(of: ref(web, 0)) == .down)
        m.feed(ref(web, 0), "http", ok: true, clock: &clock)
        #expect(m.state(of: ref(web, 0)) == .up)
        let change = m.feed(ref(web, 0), "http", ok: false, clock: &clock)
        #expect(m.state(of: ref(web, 0)) == .down)
        #expect(change.checks.map(\.check) == ["http"])
        #expect(change.reals.first?.reason.hasPrefix("http:") == true)
    }

    @Test func scriptExitStatusSetsTheWeight() {
        let web = webService(weights: [10])
        var script = HealthCheck(name: "s", probe: .script(["/bin/check"]))
        script.rise = 1
        var clock = VirtualClock()
        var m = HealthMonitor()
        m.reconfigure(services: [web], config: config(web, checks: [script]), at: clock.now)
        m.feed(ref(web, 0), "s", ok: true, clock: &clock, adjustment: .set(40))
        #expect(m.weights(web.service.key) == ["10.0.1.1": 40])
        let change = m.feed(ref(web, 0), "s", ok: true, clock: &clock, adjustment: .set(3))
        #expect(change.reals.isEmpty && change.services == [web.service.key])
        #expect(m.weights(web.service.key) == ["10.0.1.1": 3])
        m.feed(ref(web, 0), "s", ok: true, clock: &clock, adjustment: nil)
        #expect(m.weights(web.service.key) == ["10.0.1.1": 10])
    }

    @Test func dynamicWeightsAddUpAsKeepalivedDoes() {
        #expect(WeightAdjustment.weight(desired: 10, adjustments: [.set(40)]) == 40)
        #expect(WeightAdjustment.weight(desired: 10, adjustments: [.add(5)]) == 15)
        #expect(WeightAdjustment.weight(desired: 10, adjustments: [.set(40), .add(-5)]) == 35)
        #expect(WeightAdjustment.weight(desired: 10, adjustments: [.add(-50)]) == 0)
        #expect(WeightAdjustment.weight(desired: 10, adjustments: [.add(Int64(Int32.max))]) == Int32.max)
    }

    @Test func onFailureRemoveTakesTheRealServerOutAndWeight0KeepsIt() {
        let web = webService(weights: [5, 5])
        var remove = ServiceHealthPolicy()
        remove.onFailure = .remove
        var clock = VirtualClock()
        var m = HealthMonitor()
        m.reconfigure(services: [web], config: config(web, checks: [tcpCheck(rise: 1, fall: 1)], policy: remove), at: clock.now)
        #expect(m.weights(web.service.key).isEmpty)
        m.feed(ref(web, 1), ok: true, clock: &clock)
        #expect(m.weights(web.service.key) == ["10.0.1.2": 5])
        #expect(m.effectiveWeight(of: ref(web, 0)) == nil)

        var n = HealthMonitor()
        n.reconfigure(services: [web], config: config(web, checks: [tcpCheck(rise: 1, fall: 1)]), at: clock.now)
        #expect(n.weights(web.service.key) == ["10.0.1.1": 0, "10.0.1.2": 0])
    }

    @Test func maintenanceDrainsWithWeight0AndShowsDisabled() {
        let web = webService(weights: [5, 5])
        var remove = ServiceHealthPolicy()
        remove.onFailure = .remove
        var clock = VirtualClock()
        var m = HealthMonitor()
        var c = config(web, checks: [tcpCheck(rise: 1, fall: 1)], policy: remove)
        m.reconfigure(services: [web], config: c, at: clock.now)
        m.feed(ref(web, 0), ok: true, clock: &clock)
        m.feed(ref(web, 1), ok: true, clock: &clock)
        c.disabled = [ref(web, 0)]
        let disable = m.reconfigure(services: [web], config: c, at: clock.advance())
        #expect(disable.reals.map(\.to) == [.disabled])
        #expect(disable.reals[0].reason == "disabled (maintenance)")
        // disable never deletes, even with on-failure remove.
        #expect(m.weights(web.service.key) == ["10.0.1.1": 0, "10.0.1.2": 5])
        // Checks go on underneath; a failure does not change the state shown.
        let failed = m.feed(ref(web, 0), ok: false, clock: &clock)
        #expect(failed.reals.isEmpty && failed.checks.count == 1)
        #expect(m.state(of: ref(web, 0)) == .disabled)
        m.feed(ref(web, 0), ok: true, clock: &clock)
        c.disabled = []
        let enable = m.reconfigure(services: [web], config: c, at: clock.advance())
        #expect(enable.reals.map(\.to) == [.up])
        #expect(enable.reals[0].reason == "enabled")
        #expect(m.weights(web.service.key) == ["10.0.1.1": 5, "10.0.1.2": 5])
    }

    @Test func aRealServerWithoutChecksIsUpAtItsDesiredWeight() {
        let web = webService(weights: [7])
        var m = HealthMonitor()
        m.reconfigure(services: [web], config: HealthConfig(), at: VirtualClock().now)
        #expect(m.state(of: ref(web, 0)) == .up)
        #expect(m.effectiveServices() == [web])
    }

    @Test func reportsCarryStateWeightsSinceAndLastResult() {
        let web = webService(weights: [5])
        var clock = VirtualClock()
        var m = HealthMonitor()
        m.reconfigure(services: [web], config: config(web, checks: [tcpCheck(rise: 1)]), at: clock.now)
        m.feed(ref(web, 0), ok: true, clock: &clock)
        let report = m.reports()
        #expect(report.count == 1)
        #expect(report[0].state == .up)
        #expect(report[0].weight == 5 && report[0].desiredWeight == 5)
        #expect(report[0].since == clock.now)
        #expect(report[0].last?.ok == true)
        #expect(report[0].checks.map(\.name) == ["web"])
    }
}
