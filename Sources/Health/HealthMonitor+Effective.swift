import LVSModel

extension HealthMonitor {
    /// The effective kernel table: every desired service with its real servers at their effective
    /// weights, those removed on failure absent, and the sorry server present while quorum is lost.
    public func effectiveServices() -> [ServiceStatus] { services.map { effective($0) } }

    /// One service of the effective table, nil when it is not desired.
    public func effectiveService(_ key: ServiceKey) -> ServiceStatus? {
        serviceIndex[key].map { effective(services[$0]) }
    }

    /// The effective weight of one real server: nil when it is out of the kernel's service.
    public func effectiveWeight(of ref: RealReference) -> Int32? {
        guard let service = effectiveService(ref.service) else { return nil }
        return service.realServers.first { $0.server.identity == ref.real }?.server.weight
    }

    private func effective(_ desired: ServiceStatus) -> ServiceStatus {
        let key = desired.service.key
        let policy = config.policy(key)
        let sorryIn = policy.sorry != nil && quorumUp[key] == false
        var out = ServiceStatus(service: desired.service)
        out.realServers.reserveCapacity(desired.realServers.count + 1)
        for real in desired.realServers {
            let ref = RealReference(service: key, real: real.server.identity)
            guard let record = reals[ref] else { out.realServers.append(real); continue }
            let weight: Int32?
            if sorryIn && record.state != .disabled {
                // keepalived takes the live real servers out while the sorry server serves.
                weight = policy.onFailure == .remove ? nil : 0
            } else {
                weight = record.effectiveWeight(onFailure: policy.onFailure, checks[record.range])
            }
            guard let weight else { continue }
            var server = real.server
            server.weight = weight
            out.realServers.append(RealServerStatus(server: server))
        }
        if sorryIn, let sorry = policy.sorry, let server = Self.sorryServer(sorry, of: desired),
           !out.realServers.contains(where: { $0.server.identity == server.identity }) {
            out.realServers.append(RealServerStatus(server: server))
        }
        return out
    }

    /// The sorry server as a real server: its port defaults to the service's, its forwarding is that
    /// of the service's first real server (keepalived's sorry_server_lvs_method defaults to the
    /// service's method), and its weight is 1.
    static func sorryServer(_ key: RealServerKey, of desired: ServiceStatus) -> RealServer? {
        let port = key.port != 0 ? key.port : desired.service.key.port
        let forwarding = desired.realServers.first?.server.forwarding ?? .masquerade
        let server = RealServer(address: key.address, port: forwarding.allowsPortMapping ? port : desired.service.key.port,
                                forwarding: forwarding, weight: 1)
        return server
    }
}
