import LVSModel

extension HealthMonitor {
    /// The effective kernel table: every desired service with its real servers at their effective
    /// weights, those removed on failure absent, and the sorry server present while quorum is lost.
    public func effectiveServices() -> [ServiceStatus] { services.indices.map { effective(at: $0) } }

    /// One service of the effective table, nil when it is not desired.
    public func effectiveService(_ key: ServiceKey) -> ServiceStatus? {
        serviceIndex[key].map { effective(at: $0) }
    }

    /// The effective weight of one real server: nil when it is out of the kernel's service.
    public func effectiveWeight(of ref: RealReference) -> Int32? {
        guard let service = effectiveService(ref.service) else { return nil }
        return service.realServers.first { $0.server.identity == ref.real }?.server.weight
    }

    /// A service's effective weights, nil when it is not desired: what the daemon keeps of what it wrote.
    public func effectiveWeights(_ key: ServiceKey) -> EffectiveWeights? {
        serviceIndex[key].map { weights(at: $0) }
    }

    /// The effective service that `weights` (of `effectiveWeights`) describe, nil when the service
    /// is not desired or its real servers are no longer those the weights were taken of.
    public func effectiveService(_ key: ServiceKey, weights: EffectiveWeights) -> ServiceStatus? {
        guard let index = serviceIndex[key], services[index].realServers.count == weights.weights.count else { return nil }
        return service(at: index, weights)
    }

    private func effective(at index: Int) -> ServiceStatus { service(at: index, weights(at: index)) }

    private func weights(at index: Int) -> EffectiveWeights {
        let desired = services[index]
        let key = desired.service.key
        let policy = config.policy(key)
        let sorryIn = policy.sorry != nil && quorumUp[key] == false
        var out = EffectiveWeights(weights: [], sorryIn: sorryIn)
        out.weights.reserveCapacity(desired.realServers.count)
        let first = plan.firstReal(ofService: index)
        for k in desired.realServers.indices {
            let record = records[first + k]
            let weight: Int32?
            if sorryIn && record.state != .disabled {
                // keepalived takes the live real servers out while the sorry server serves.
                weight = policy.onFailure == .remove ? nil : 0
            } else {
                weight = record.effectiveWeight(onFailure: policy.onFailure, checks[record.range])
            }
            out.weights.append(weight ?? EffectiveWeights.out)
        }
        return out
    }

    private func service(at index: Int, _ weights: EffectiveWeights) -> ServiceStatus {
        let desired = services[index]
        var out = ServiceStatus(service: desired.service)
        out.realServers.reserveCapacity(desired.realServers.count + 1)
        for (real, weight) in zip(desired.realServers, weights.weights) where weight != EffectiveWeights.out {
            var server = real.server
            server.weight = weight
            out.realServers.append(RealServerStatus(server: server))
        }
        if weights.sorryIn, let sorry = config.policy(desired.service.key).sorry, let server = Self.sorryServer(sorry, of: desired),
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

/// A service's effective weights: for each desired real server, in order, its weight in the kernel
/// (`out`: not in it), and whether the sorry server is in. 4 bytes a real server, where the
/// effective service itself is 64.
public struct EffectiveWeights: Hashable, Sendable {
    /// The weight of a real server that is out of the kernel's service (down, with on-failure remove).
    public static let out = Int32.min
    public var weights: [Int32]
    public var sorryIn: Bool
}
