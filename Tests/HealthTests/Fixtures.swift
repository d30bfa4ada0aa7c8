@testable import Health
import LVSModel

/// A web service on 10.0.0.5:80 with NAT real servers 10.0.1.N:8080 of the given weights.
func webService(port: UInt16 = 80, weights: [Int32]) -> ServiceStatus {
    let key = ServiceKey.inet(.tcp, IPAddress("10.0.0.5")!, port)
    let reals = weights.enumerated().map { i, w in
        RealServerStatus(server: RealServer(address: IPAddress("10.0.1.\(i + 1)")!, port: 8080, forwarding: .masquerade, weight: w))
    }
    return ServiceStatus(service: VirtualService(key: key, scheduler: "wrr"), realServers: reals)
}

func ref(_ service: ServiceStatus, _ index: Int) -> RealReference {
    RealReference(service: service.service.key, real: service.realServers[index].server.identity)
}

func tcpCheck(_ name: String = "web", rise: UInt32 = 2, fall: UInt32 = 3) -> HealthCheck {
    var c = HealthCheck(name: name, probe: .tcp)
    c.rise = rise
    c.fall = fall
    return c
}

/// A configuration where every real server of `service` runs `checks`.
func config(_ service: ServiceStatus, checks: [HealthCheck], policy: ServiceHealthPolicy = .default) -> HealthConfig {
    var c = HealthConfig()
    for check in checks { c.define(check) }
    c.serviceChecks[service.service.key] = checks.map(\.name)
    if policy != .default { c.policies[service.service.key] = policy }
    return c
}

/// A virtual wall clock.
struct VirtualClock {
    var now = HealthTime(milliseconds: 1_764_730_000_000)
    mutating func advance(_ ms: Int64 = 1000) -> HealthTime {
        now = now.adding(milliseconds: ms)
        return now
    }
}

extension HealthMonitor {
    /// The probe key of a real server's check.
    func key(_ ref: RealReference, _ check: String = "web") -> ProbeKey {
        plan.bindings(of: ref).first { $0.check == check }!.key
    }

    /// Feeds `count` results of one verdict to a real server's check, a second apart.
    @discardableResult
    mutating func feed(_ ref: RealReference, _ check: String = "web", ok: Bool, count: Int = 1, clock: inout VirtualClock,
                       adjustment: WeightAdjustment? = nil) -> HealthChanges {
        var all = HealthChanges()
        for _ in 0..<count {
            let r = ProbeResult(ok: ok, reason: ok ? "connected" : "connection refused", milliseconds: 1,
                                adjustment: adjustment, at: clock.advance())
            let c = record(r, for: key(ref, check))
            all.checks += c.checks
            all.reals += c.reals
            all.quorum += c.quorum
            all.services.formUnion(c.services)
        }
        return all
    }

    func weights(_ service: ServiceKey) -> [String: Int32] {
        var out: [String: Int32] = [:]
        for r in effectiveService(service)?.realServers ?? [] { out["\(r.server.address)"] = r.server.weight }
        return out
    }
}
