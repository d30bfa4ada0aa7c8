import LVSModel

/// The health of every real server the daemon manages: a pure state machine on an injected clock.
///
/// The daemon feeds it the desired services and the health configuration (`reconfigure`) and every
/// probe result (`record`); it answers with the transitions and with the effective kernel table
/// (`effectiveServices`): desired real servers with the weights health and maintenance give them.
/// It does no I/O and reads no clock: every time comes in with a result or a reconfiguration.
public struct HealthMonitor: Sendable {
    /// The checks bound to real servers, and the distinct probes the scheduler runs.
    public internal(set) var plan = ProbePlan()
    public internal(set) var config = HealthConfig()
    var serviceIndex: [ServiceKey: Int] = [:]
    /// Every real server's record, at its place in the plan (`ProbePlan.ref(ofReal:)`). An array where
    /// a dictionary by `RealReference` cost about 150 bytes a real server.
    var records: [RealRecord] = []
    /// Every check's state, at the place of its binding in the plan's `all`.
    var checks: [CheckState] = []
    /// Whether each service has its quorum (keepalived's quorum_state_up).
    var quorumUp: [ServiceKey: Bool] = [:]

    public init() {}

    /// The desired services, in the order the configuration gives them.
    public var services: [ServiceStatus] { plan.services }

    /// The distinct probes to run, each with its interval in milliseconds: the scheduler's input.
    public var probes: [ProbeKey: UInt32] { plan.probes }

    /// The state of one real server, nil when no desired service has it.
    public func state(of ref: RealReference) -> HealthState? { place(of: ref).map { records[$0].state } }

    /// The place of a real server in the plan (its last, should a service name it twice): a search of
    /// its service's real servers.
    func place(of ref: RealReference) -> Int? {
        guard let s = serviceIndex[ref.service],
              let k = services[s].realServers.lastIndex(where: { $0.server.identity == ref.real }) else { return nil }
        return plan.firstReal(ofService: s) + k
    }

    /// The real servers that are down or disabled: what a scrape needs of the monitor. Usually a few,
    /// where a copy of the monitor held across a scrape was copied whole (about 500 bytes a real
    /// server) by the first result recorded meanwhile.
    public var downOrDisabled: Set<RealReference> {
        var refs: Set<RealReference> = []
        for (place, record) in records.enumerated() where record.state == .down || record.state == .disabled {
            refs.insert(plan.ref(ofReal: place))
        }
        return refs
    }

    /// Whether a service has lost its quorum (and so has its sorry server in, when it has one).
    public func quorumLost(_ service: ServiceKey) -> Bool { quorumUp[service] == false }

    /// Counts one report of the scheduler: `record(report.result, for: report.key)`.
    public mutating func record(_ report: ProbeReport) -> HealthChanges { record(report.result, for: report.key) }

    /// Counts one probe result for every check that shares the probe.
    public mutating func record(_ result: ProbeResult, for key: ProbeKey) -> HealthChanges {
        var changes = HealthChanges()
        guard let use = plan.users[key] else { return changes }
        var touched: [ServiceKey] = []
        for n in 0..<use.count {
            let index = use.index(n)
            let binding = plan.all[index]
            let place = Int(binding.real)
            var record = records[place]
            let ref = plan.ref(ofReal: place)
            let policy = config.policy(ref.service)
            let entryBefore = record.effectiveWeight(onFailure: policy.onFailure, checks[record.range])
            let liveBefore = record.liveWeight(checks[record.range])
            let stateBefore = record.state
            if let from = checks[index].record(result, rise: binding.rise, fall: binding.fall) {
                changes.checks.append(CheckTransition(ref: ref, check: binding.check, from: from, to: checks[index].state,
                                                      reason: Self.reason(binding, checks[index]), at: result.at))
            }
            let own = checks[record.range]
            let checked = RealRecord.checkedState(own)
            let state = config.disabled.contains(ref) ? .disabled : checked
            if state != record.state {
                changes.reals.append(RealTransition(ref: ref, from: record.state, to: state,
                                                    reason: Self.reason(binding, checks[index]), at: result.at))
                record.state = state
                record.since = result.at
            }
            if checked != .unknown { record.held = nil }
            if record.effectiveWeight(onFailure: policy.onFailure, own) != entryBefore {
                changes.services.insert(ref.service)
            }
            if record.liveWeight(own) != liveBefore || record.state != stateBefore {
                touched.append(ref.service)
            }
            records[place] = record
        }
        for service in Set(touched) { updateQuorum(service, at: result.at, into: &changes) }
        return changes
    }

    /// `web-http: connection refused (3 failures in a row)`.
    static func reason(_ binding: CheckBinding, _ check: CheckState) -> String {
        let what = check.last?.reason ?? "no result"
        let count = check.last?.ok == true
            ? (check.successes == 1 ? "1 success" : "\(check.successes) successes")
            : (check.failures == 1 ? "1 failure" : "\(check.failures) failures")
        return "\(binding.check): \(what) (\(count) in a row)"
    }

    /// Re-decides a service's quorum with keepalived's hysteresis: lost when the live weight is 0
    /// or below quorum − hysteresis, regained at quorum + hysteresis (and above 0, so that a
    /// service without a quorum does not flap at 0).
    mutating func updateQuorum(_ service: ServiceKey, at: HealthTime, into changes: inout HealthChanges) {
        guard let index = serviceIndex[service] else { return }
        let policy = config.policy(service)
        var sum: Int64 = 0
        let first = plan.firstReal(ofService: index)
        for record in records[first..<first + services[index].realServers.count] {
            sum += record.liveWeight(checks[record.range])
        }
        let quorum = Int64(policy.quorum), hysteresis = Int64(policy.hysteresis)
        let was = quorumUp[service]
        let up: Bool
        let threshold: Int64
        if was ?? false {
            threshold = quorum - hysteresis
            up = !(sum == 0 || sum < threshold)
        } else {
            threshold = quorum + hysteresis
            up = sum > 0 && sum >= threshold
        }
        quorumUp[service] = up
        guard up != was else { return }
        // A service that starts with its quorum is the normal case and says nothing.
        if was == nil && up { return }
        if policy.sorry != nil { changes.services.insert(service) }
        guard policy.quorum > 0 || policy.sorry != nil else { return }
        changes.quorum.append(QuorumTransition(service: service, lost: !up, weightSum: sum, threshold: threshold,
                                               sorryServer: policy.sorry, at: at))
    }
}
