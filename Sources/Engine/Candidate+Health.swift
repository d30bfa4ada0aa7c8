import LVSModel

extension Candidate {
    /// Changes the daemon's part of the state, or refuses when nothing would act on it (no daemon).
    public mutating func changeHealth(_ what: @autoclosure () -> String,
                                      _ body: (inout HealthConfig) throws(LVSError) -> Void) throws(LVSError) {
        guard keepsHealth else {
            throw .badInput("\(what()) needs `lvsh daemon`: checks, maintenance and metrics act only while a daemon runs; "
                + "put the line in the file the daemon reads (`lvsh daemon FILE`), where `apply` sets the rest and warns")
        }
        try body(&health)
    }

    /// The port a check probes on a real server: the check's own, the real server's, or the only port
    /// of the group a fwmark service carries; nil (with why) when there is none to take.
    public func probePort(of check: HealthCheck, for ref: RealReference) -> Result<UInt16?, LVSError> {
        guard check.probe.usesPort else { return .success(nil) }
        if let p = check.port { return .success(p) }
        if ref.real.port != 0 { return .success(ref.real.port) }
        guard case .fwmark(let mark, _) = ref.service else { return .success(ref.service.port) }
        let g = group(forMark: mark)
        let ranges = Set(g?.entries.map(\.ports) ?? [])
        if ranges.count == 1, let only = ranges.first, only.lowerBound == only.upperBound { return .success(only.lowerBound) }
        let where_ = g.map { "group \($0.name) has \(ranges.isEmpty ? "no port" : "more than one port")" }
            ?? "fwmark \(mark) belongs to no group"
        return .failure(.badInput("check \(check.name) needs a port for the real servers of fwmark \(mark): \(where_); add `port P` to the check"))
    }
}

extension Candidate {
    /// Ends a desired state's health part: bindings of services and real servers that were removed go,
    /// and every real server's checks must have a port to probe.
    public mutating func finishHealth() throws(LVSError) {
        // Only bindings, maintenance and policies name services and real servers (a metrics listener
        // alone must not cost a 10,000-service reload a pass over every real server).
        guard health.actsOnWeights else { return }
        let table = self.table
        var reals = Set<RealReference>()
        for s in table.services {
            for r in s.realServers { reals.insert(RealReference(service: s.service.key, real: r.server.identity)) }
        }
        let services = Set(table.services.map(\.service.key))
        health.prune { ref, key in ref.map(reals.contains) ?? services.contains(key) }
        // The first real server in order that has a check without a port, found without sorting them all.
        var refusal: (ref: RealReference, error: LVSError)?
        for ref in reals where refusal.map({ ref < $0.ref }) ?? true {
            for check in health.checks(of: ref) {
                if case .failure(let e) = probePort(of: check, for: ref) {
                    refusal = (ref, e)
                    break
                }
            }
        }
        if let refusal { throw refusal.error }
    }
}
