@testable import Health
import LVSModel
import Testing

@Suite("The state machine at the benchmark's scale")
struct ScaleTests {
    /// 10,000 services of one real server each, one TCP check: one probe per real server, every
    /// result touches one service, and a reload with one weight changed changes one service.
    @Test func tenThousandServices() {
        var services: [ServiceStatus] = []
        var config = HealthConfig()
        var check = HealthCheck(name: "tcp", probe: .tcp)
        check.rise = 1
        config.define(check)
        for n in 0..<10_000 {
            let key = ServiceKey.inet(.tcp, IPAddress(v4: 0x0a00_0000 | UInt32(n)), 80)
            let real = RealServer(address: IPAddress(v4: 0x0a01_0000 | UInt32(n)), port: 80, forwarding: .route, weight: 1)
            services.append(ServiceStatus(service: VirtualService(key: key), realServers: [RealServerStatus(server: real)]))
            config.serviceChecks[key] = ["tcp"]
        }
        var monitor = HealthMonitor()
        monitor.reconfigure(services: services, config: config, adopting: services, at: HealthTime(milliseconds: 0))
        #expect(monitor.probes.count == 10_000)
        var changed = 0
        for (key, _) in monitor.probes {
            changed += monitor.record(ProbeResult(ok: true, reason: "connected", at: HealthTime(milliseconds: 1)), for: key).services.count
        }
        #expect(changed == 0)
        var reload = services
        reload[4321].realServers[0].server.weight = 7
        let change = monitor.reconfigure(services: reload, config: config, at: HealthTime(milliseconds: 2))
        #expect(change.services == [reload[4321].service.key])
        #expect(change.reals.isEmpty)
    }
}
