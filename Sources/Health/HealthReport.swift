import LVSModel

/// One check of one real server, as `show health` and the metrics show it.
public struct CheckReport: Hashable, Sendable {
    public var name: String
    public var probe: ProbeKey
    public var state: HealthState
    public var successes: UInt32
    public var failures: UInt32
    public var since: HealthTime
    public var last: ProbeResult?
}

/// One real server of one service, as `show health --json` shows it.
public struct RealHealthReport: Hashable, Sendable {
    public var ref: RealReference
    public var state: HealthState
    /// The weight in the effective table; nil when the real server is out of it.
    public var weight: Int32?
    /// The weight the configuration gives.
    public var desiredWeight: Int32
    public var since: HealthTime
    public var checks: [CheckReport]

    /// The most recent result of any of its checks.
    public var last: ProbeResult? { checks.compactMap(\.last).max { $0.at < $1.at } }
}

extension HealthMonitor {
    /// Every desired real server with its state, in the order of the desired table.
    public func reports() -> [RealHealthReport] {
        var out: [RealHealthReport] = []
        for (index, status) in services.enumerated() {
            let effective = effectiveService(status.service.key)
            var weights: [RealServerKey: Int32] = [:]
            for r in effective?.realServers ?? [] { weights[r.server.identity] = r.server.weight }
            let first = plan.firstReal(ofService: index)
            for (k, real) in status.realServers.enumerated() {
                let ref = RealReference(service: status.service.key, real: real.server.identity)
                let record = records[first + k]
                let checks = zip(plan.all[record.range], self.checks[record.range]).map { b, c in
                    CheckReport(name: b.check, probe: b.key, state: c.state, successes: c.successes,
                                failures: c.failures, since: c.since, last: c.last)
                }
                out.append(RealHealthReport(ref: ref, state: record.state, weight: weights[ref.real],
                                            desiredWeight: real.server.weight, since: record.since, checks: checks))
            }
        }
        return out
    }
}
