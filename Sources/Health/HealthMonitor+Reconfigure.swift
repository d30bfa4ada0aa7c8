import LVSModel

extension HealthMonitor {
    /// Takes a new desired table and health configuration. Real servers and checks that did not
    /// change keep their state (and their counts); a real server new to the monitor is adopted when
    /// `kernel` has it (daemon start: unknown, keeping the kernel's weight until its first result)
    /// and added otherwise (alpha: down until `rise` successes; without alpha: up). A check that is
    /// new or redefined on a known real server starts down when the server is down, else unknown,
    /// keeping the server's weight until its first result.
    ///
    /// `groupPorts`: for each firewall mark, the port ranges of the group that sets it.
    @discardableResult
    public mutating func reconfigure(services newServices: [ServiceStatus], config newConfig: HealthConfig,
                                     groupPorts: [UInt32: [ClosedRange<UInt16>]] = [:],
                                     adopting kernel: [ServiceStatus] = [], at now: HealthTime) -> HealthChanges {
        var changes = HealthChanges()
        // The monitor as it was (a copy on write): each service's effective table before, made only
        // when compared at the end rather than kept in a dictionary of them all.
        let before = self
        let newPlan = ProbePlan(services: newServices, config: newConfig, groupPorts: groupPorts)
        var kernelWeights: [RealReference: Int32] = [:]
        for s in kernel {
            for r in s.realServers { kernelWeights[RealReference(service: s.service.key, real: r.server.identity)] = r.server.weight }
        }

        var newReals: [RealReference: RealRecord] = [:]
        newReals.reserveCapacity(reals.count)
        for status in newServices {
            let service = status.service.key
            let policy = newConfig.policy(service)
            for real in status.realServers {
                let ref = RealReference(service: service, real: real.server.identity)
                let bindings = newPlan.bindings[ref] ?? []
                let disabled = newConfig.disabled.contains(ref)
                var (record, reason) = reals[ref].map { (carried($0, ref: ref, server: real.server, bindings: bindings, at: now), "configuration changed") }
                    ?? arriving(ref, server: real.server, bindings: bindings, kernelWeight: kernelWeights[ref], policy: policy, at: now)
                if record.checkedState != .unknown { record.held = nil }
                let state = record.state(disabled: disabled)
                let old = reals[ref]?.state
                if state != old {
                    if old == .disabled { reason = "enabled" } else if state == .disabled { reason = "disabled (maintenance)" }
                    changes.reals.append(RealTransition(ref: ref, from: old, to: state, reason: reason, at: now))
                    if old != nil { record.since = now }
                    record.state = state
                }
                newReals[ref] = record
            }
        }

        reals = newReals
        plan = newPlan
        config = newConfig
        services = newServices
        serviceIndex = [:]
        for (i, s) in newServices.enumerated() where serviceIndex[s.service.key] == nil { serviceIndex[s.service.key] = i }
        quorumUp = quorumUp.filter { serviceIndex[$0.key] != nil }
        for s in newServices { updateQuorum(s.service.key, at: now, into: &changes) }

        for s in newServices where before.effectiveService(s.service.key) != effectiveService(s.service.key) { changes.services.insert(s.service.key) }
        for s in before.services where serviceIndex[s.service.key] == nil { changes.services.insert(s.service.key) }
        return changes
    }
}

extension HealthMonitor {
    /// A known real server under the new configuration: checks whose probe did not change keep
    /// their state; new ones start down on a down server, else unknown holding its weight.
    func carried(_ old: RealRecord, ref: RealReference, server: RealServer, bindings: [CheckBinding], at now: HealthTime) -> RealRecord {
        var record = old
        record.desired = server
        record.checks = [:]
        let oldBindings = plan.bindings[ref] ?? []
        for b in bindings {
            if let kept = old.checks[b.check], oldBindings.contains(where: { $0.check == b.check && $0.key == b.key }) {
                record.checks[b.check] = kept
            } else if old.checkedState == .down {
                record.checks[b.check] = CheckState(state: .down, since: now)
            } else {
                record.checks[b.check] = CheckState(state: .unknown, since: now)
                record.held = record.held ?? old.upWeightOrHeld
            }
        }
        return record
    }

    /// A real server new to the monitor: adopted from the kernel (unknown, holding the kernel's
    /// weight), or added (alpha: down; without alpha: up).
    func arriving(_ ref: RealReference, server: RealServer, bindings: [CheckBinding], kernelWeight: Int32?,
                  policy: ServiceHealthPolicy, at now: HealthTime) -> (RealRecord, String) {
        if let weight = kernelWeight {
            var record = RealRecord(desired: server, checks: [:], state: .unknown, since: now, held: weight)
            for b in bindings { record.checks[b.check] = CheckState(state: .unknown, since: now) }
            return (record, "adopted from the kernel with weight \(weight)")
        }
        let start: HealthState = policy.alpha ? .down : .up
        var record = RealRecord(desired: server, checks: [:], state: start, since: now, held: nil)
        for b in bindings { record.checks[b.check] = CheckState(state: start, since: now) }
        let reason = bindings.isEmpty || !policy.alpha ? "added" : "added; alpha: no traffic before \(bindings.map(\.rise).max()!) successes"
        return (record, reason)
    }
}

extension RealRecord {
    /// The weight to hold while a new check has not answered: what the kernel has now.
    var upWeightOrHeld: Int32 { checkedState == .unknown ? held ?? upWeight : upWeight }
}
