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

        var newRecords: [RealRecord] = []
        newRecords.reserveCapacity(newPlan.realCount)
        var newChecks: [CheckState] = []
        newChecks.reserveCapacity(newPlan.all.count)
        var oldPlaces = OldPlaces()
        // The plan binds real servers in this same order, each one's checks together.
        var next = 0
        for status in newServices {
            let service = status.service.key
            let policy = newConfig.policy(service)
            for (k, real) in status.realServers.enumerated() {
                let ref = RealReference(service: service, real: real.server.identity)
                let place = UInt32(newRecords.count)
                let first = next
                while next < newPlan.all.count, newPlan.all[next].real == place { next += 1 }
                let bindings = newPlan.all[first..<next]
                let disabled = newConfig.disabled.contains(ref)
                let old = before.oldPlace(of: ref, at: k, cache: &oldPlaces).map { before.records[$0] }
                var (record, reason) = old.map { (carried($0, server: real.server, bindings: bindings, into: &newChecks, at: now), "configuration changed") }
                    ?? arriving(server: real.server, bindings: bindings, kernelWeight: kernelWeights[ref], policy: policy,
                                into: &newChecks, at: now)
                record.first = UInt32(first)
                record.count = UInt16(next - first)
                let checked = RealRecord.checkedState(newChecks[first..<next])
                if checked != .unknown { record.held = nil }
                let state = disabled ? .disabled : checked
                if state != old?.state {
                    if old?.state == .disabled { reason = "enabled" } else if state == .disabled { reason = "disabled (maintenance)" }
                    changes.reals.append(RealTransition(ref: ref, from: old?.state, to: state, reason: reason, at: now))
                    if old != nil { record.since = now }
                    record.state = state
                }
                newRecords.append(record)
            }
        }

        records = newRecords
        checks = newChecks
        plan = newPlan
        config = newConfig
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
    /// The real servers of old services by address, made for a service only when its real servers
    /// moved: usually each is where it was.
    struct OldPlaces {
        var byService: [Int: [RealServerKey: Int]] = [:]
    }

    /// A real server's place in this (the old) monitor, if it has it; `position`: its index in its
    /// new service, where it usually still is.
    func oldPlace(of ref: RealReference, at position: Int, cache: inout OldPlaces) -> Int? {
        guard let s = serviceIndex[ref.service] else { return nil }
        let reals = services[s].realServers
        let first = plan.firstReal(ofService: s)
        if position < reals.count, reals[position].server.identity == ref.real { return first + position }
        if cache.byService[s] == nil {
            var places: [RealServerKey: Int] = [:]
            for (k, r) in reals.enumerated() { places[r.server.identity] = first + k }
            cache.byService[s] = places
        }
        return cache.byService[s]![ref.real]
    }

    /// A known real server under the new configuration, its checks' states appended to `states`:
    /// checks whose probe did not change keep their state; new ones start down on a down server,
    /// else unknown holding its weight.
    func carried(_ old: RealRecord, server: RealServer, bindings: ArraySlice<CheckBinding>,
                 into states: inout [CheckState], at now: HealthTime) -> RealRecord {
        var record = old
        record.weight = server.weight
        let oldChecks = checks[old.range], oldBindings = plan.all[old.range]
        let oldState = RealRecord.checkedState(oldChecks)
        for b in bindings {
            if let kept = oldBindings.firstIndex(where: { $0.check == b.check && $0.key == b.key }) {
                states.append(checks[kept])
            } else if oldState == .down {
                states.append(CheckState(state: .down, since: now))
            } else {
                states.append(CheckState(state: .unknown, since: now))
                record.held = record.held ?? old.upWeightOrHeld(oldChecks)
            }
        }
        return record
    }

    /// A real server new to the monitor, its checks' states appended to `states`: adopted from the
    /// kernel (unknown, holding the kernel's weight), or added (alpha: down; without alpha: up).
    func arriving(server: RealServer, bindings: ArraySlice<CheckBinding>, kernelWeight: Int32?,
                  policy: ServiceHealthPolicy, into states: inout [CheckState], at now: HealthTime) -> (RealRecord, String) {
        if let weight = kernelWeight {
            for _ in bindings { states.append(CheckState(state: .unknown, since: now)) }
            return (RealRecord(weight: server.weight, first: 0, count: 0, state: .unknown, since: now, held: weight),
                    "adopted from the kernel with weight \(weight)")
        }
        let start: HealthState = policy.alpha ? .down : .up
        for _ in bindings { states.append(CheckState(state: start, since: now)) }
        let reason = bindings.isEmpty || !policy.alpha ? "added" : "added; alpha: no traffic before \(bindings.map(\.rise).max()!) successes"
        return (RealRecord(weight: server.weight, first: 0, count: 0, state: start, since: now, held: nil), reason)
    }
}
