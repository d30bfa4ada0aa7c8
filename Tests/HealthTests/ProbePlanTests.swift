@testable import Health
import LVSModel
import Testing

@Suite("Probe identity, de-duplication and the port rule")
struct ProbePlanTests {
    let mark = ServiceKey.fwmark(1000, .v4)

    func fwmarkService(reals: [String]) -> ServiceStatus {
        ServiceStatus(service: VirtualService(key: mark),
                      realServers: reals.map { RealServerStatus(server: RealServer(address: IPAddress($0)!, port: 0, forwarding: .route)) })
    }

    @Test func oneProbePerDistinctTargetHoweverManyServicesShareIt() {
        // Three services on the same two real servers (keepalived #1495): two probes, not six.
        let services = [80, 81, 82].map { webService(port: $0, weights: [1, 1]) }
        var c = HealthConfig()
        c.define(tcpCheck())
        for s in services { c.serviceChecks[s.service.key] = ["web"] }
        let plan = ProbePlan(services: services, config: c)
        #expect(plan.probes.count == 2)
        #expect(plan.users.values.map(\.count).sorted() == [3, 3])
        #expect(plan.errors.isEmpty)
    }

    @Test func aResultFansOutToEveryUser() {
        let services = [80, 81].map { webService(port: $0, weights: [1]) }
        var c = HealthConfig()
        c.define(tcpCheck(rise: 1))
        for s in services { c.serviceChecks[s.service.key] = ["web"] }
        var clock = VirtualClock()
        var m = HealthMonitor()
        m.reconfigure(services: services, config: c, at: clock.now)
        let change = m.feed(ref(services[0], 0), ok: true, clock: &clock)
        #expect(change.reals.count == 2)
        #expect(change.services == Set(services.map(\.service.key)))
    }

    @Test func theShortestIntervalOfTheSharersWins() {
        let services = [80, 81].map { webService(port: $0, weights: [1]) }
        var fast = tcpCheck("fast")
        fast.intervalMilliseconds = 500
        var slow = tcpCheck("slow")
        slow.intervalMilliseconds = 5000
        var c = HealthConfig()
        c.define(fast)
        c.define(slow)
        c.serviceChecks[services[0].service.key] = ["slow"]
        c.serviceChecks[services[1].service.key] = ["fast"]
        let plan = ProbePlan(services: services, config: c)
        #expect(plan.probes.values.map { $0 } == [500])
    }

    @Test func timeoutSourceOptionsAndKindMakeDistinctProbes() {
        let web = webService(weights: [1])
        var a = tcpCheck("a")
        var b = tcpCheck("b")
        b.timeoutMilliseconds = 200
        var c = tcpCheck("c")
        c.source = IPAddress("10.0.0.1")
        var d = HealthCheck(name: "d", probe: .http(HTTPProbe()))
        var e = HealthCheck(name: "e", probe: .http({ var h = HTTPProbe(); h.path = "/health"; return h }()))
        a.rise = 1; d.rise = 1; e.rise = 1
        var config = HealthConfig()
        for check in [a, b, c, d, e] { config.define(check) }
        config.serviceChecks[web.service.key] = ["a", "b", "c", "d", "e"]
        #expect(ProbePlan(services: [web], config: config).probes.count == 5)
    }

    @Test func portDefaultsToTheRealServersThenTheChecks() {
        let web = webService(weights: [1])
        var c = HealthConfig()
        c.define(tcpCheck())
        c.serviceChecks[web.service.key] = ["web"]
        #expect(ProbePlan(services: [web], config: c).probes.keys.first?.port == 8080)
        var withPort = tcpCheck()
        withPort.port = 9000
        c.define(withPort)
        #expect(ProbePlan(services: [web], config: c).probes.keys.first?.port == 9000)
    }

    @Test func fwmarkServicesProbeTheGroupsOnlyPort() {
        let s = fwmarkService(reals: ["10.0.2.1"])
        var c = HealthConfig()
        c.define(tcpCheck())
        c.serviceChecks[mark] = ["web"]
        // tcp 80 and udp 80: one port.
        let plan = ProbePlan(services: [s], config: c, groupPorts: [1000: [80...80, 80...80]])
        #expect(plan.probes.keys.first?.port == 80)
        #expect(plan.errors.isEmpty)
    }

    @Test func aGroupWithSeveralPortsNeedsTheChecksPort() {
        let s = fwmarkService(reals: ["10.0.2.1"])
        var c = HealthConfig()
        c.define(tcpCheck())
        c.serviceChecks[mark] = ["web"]
        let plan = ProbePlan(services: [s], config: c, groupPorts: [1000: [80...80, 443...443, 8000...8100]])
        #expect(plan.probes.isEmpty)
        #expect(plan.errors.count == 1)
        #expect(plan.errors[0].message
            == "check web on real server 10.0.2.1 of fwm 1000: the group of mark 1000 has several ports (80,443,8000-8100); give the check a port (`check web tcp port P ...`)")
        let none = ProbePlan(services: [s], config: c, groupPorts: [:])
        #expect(none.errors[0].message.contains("no group sets mark 1000"))
    }

    @Test func kindsWithoutPortsNeedNone() {
        let s = fwmarkService(reals: ["10.0.2.1", "10.0.2.2"])
        var c = HealthConfig()
        c.define(HealthCheck(name: "ping", probe: .ping))
        c.define(HealthCheck(name: "file", probe: .file(path: "/run/weight", weight: 1)))
        c.serviceChecks[mark] = ["ping", "file"]
        let plan = ProbePlan(services: [s], config: c)
        #expect(plan.errors.isEmpty)
        // Two pings (one per address), one file read for both.
        #expect(plan.probes.keys.filter { $0.probe == .ping }.count == 2)
        #expect(plan.probes.keys.filter { $0.address == nil }.count == 1)
    }

    @Test func aRealServersOwnChecksReplaceTheServices() {
        let web = webService(weights: [1, 1])
        var c = HealthConfig()
        c.define(tcpCheck())
        c.define(HealthCheck(name: "ping", probe: .ping))
        c.serviceChecks[web.service.key] = ["web"]
        c.realChecks[ref(web, 1)] = ["ping"]
        let plan = ProbePlan(services: [web], config: c)
        #expect(plan.bindings(of: ref(web, 0)).map(\.check) == ["web"])
        #expect(plan.bindings(of: ref(web, 1)).map(\.check) == ["ping"])
    }

    @Test func theCheckAddressReplacesTheRealServers() {
        let web = webService(weights: [1])
        var check = tcpCheck()
        check.address = IPAddress("10.0.7.7")
        var c = HealthConfig()
        c.define(check)
        c.serviceChecks[web.service.key] = ["web"]
        #expect(ProbePlan(services: [web], config: c).probes.keys.first?.address == IPAddress("10.0.7.7"))
    }
}

@Suite("Probe plan edge cases")
struct ProbePlanEdgeTests {
    @Test func aCheckNamedTwiceIsBoundOnce() {
        let web = webService(weights: [1])
        var c = HealthConfig()
        c.define(tcpCheck())
        c.serviceChecks[web.service.key] = ["web", "web"]
        let plan = ProbePlan(services: [web], config: c)
        #expect(plan.bindings(of: ref(web, 0)).count == 1)
        #expect(plan.users.values.first?.count == 1)
    }
}
