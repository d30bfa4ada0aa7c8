import LVSModel

/// One check of one real server, bound to the probe that serves it.
public struct CheckBinding: Hashable, Sendable {
    public var ref: RealReference
    public var check: String
    public var key: ProbeKey
    public var rise: UInt32
    public var fall: UInt32
    public var intervalMilliseconds: UInt32
}

/// A check that cannot be bound to a real server, with a sentence that says how to fix it.
public struct ProbeBindingError: Error, Hashable, Sendable, CustomStringConvertible {
    public var ref: RealReference
    public var check: String
    public var message: String
    public var description: String { message }
}

/// Every check of every real server, and the distinct probes that serve them: the de-duplication.
public struct ProbePlan: Sendable {
    /// The checks of each real server, in the order the configuration names them.
    public private(set) var bindings: [RealReference: [CheckBinding]] = [:]
    /// Each distinct probe and its interval: the shortest interval among the checks that share it.
    public private(set) var probes: [ProbeKey: UInt32] = [:]
    /// The checks each probe's result goes to.
    public private(set) var users: [ProbeKey: [CheckBinding]] = [:]
    /// Checks that could not be bound (no port to probe); those real servers run their other checks.
    public private(set) var errors: [ProbeBindingError] = []

    public init() {}

    /// Binds the checks of `config` to the real servers of `services`. `groupPorts` gives, for each
    /// firewall mark, the port ranges of the group that sets it (the daemon knows the groups): a check
    /// of an fwmark service's real server with port 0 probes the group's only port.
    public init(services: [ServiceStatus], config: HealthConfig, groupPorts: [UInt32: [ClosedRange<UInt16>]] = [:]) {
        for status in services {
            let key = status.service.key
            for real in status.realServers {
                let ref = RealReference(service: key, real: real.server.identity)
                var seen: Set<String> = []
                for check in config.checks(of: ref) where seen.insert(check.name).inserted {
                    switch Self.bind(check, to: ref, groupPorts: groupPorts) {
                    case .success(let binding): add(binding)
                    case .failure(let error): errors.append(error)
                    }
                }
            }
        }
    }

    private mutating func add(_ binding: CheckBinding) {
        bindings[binding.ref, default: []].append(binding)
        users[binding.key, default: []].append(binding)
        probes[binding.key] = min(probes[binding.key] ?? .max, binding.intervalMilliseconds)
    }

    /// The probe one check of one real server runs, by DESIGN.md's port rule: the check's `port`,
    /// else the real server's, else (fwmark services, port 0) the only port of the service's group.
    public static func bind(_ check: HealthCheck, to ref: RealReference,
                            groupPorts: [UInt32: [ClosedRange<UInt16>]]) -> Result<CheckBinding, ProbeBindingError> {
        var port: UInt16 = 0
        if check.probe.usesPort {
            if let p = check.port ?? (ref.real.port != 0 ? ref.real.port : nil) {
                port = p
            } else {
                switch onlyPort(of: ref.service, groupPorts: groupPorts) {
                case .success(let p): port = p
                case .failure(let why):
                    return .failure(ProbeBindingError(ref: ref, check: check.name, message:
                        "check \(check.name) on real server \(ref.real.address) of \(serviceWords(ref.service)): \(why.text); "
                        + "give the check a port (`check \(check.name) \(check.probe.kindWord) port P ...`)"))
                }
            }
        }
        let key = ProbeKey(probe: check.probe, address: check.address ?? ref.real.address, port: port,
                           source: check.source, timeoutMilliseconds: check.timeoutMilliseconds)
        return .success(CheckBinding(ref: ref, check: check.name, key: key, rise: max(check.rise, 1),
                                     fall: max(check.fall, 1), intervalMilliseconds: max(check.intervalMilliseconds, 1)))
    }

    private static func onlyPort(of service: ServiceKey, groupPorts: [UInt32: [ClosedRange<UInt16>]]) -> Result<UInt16, PortMissing> {
        guard case .fwmark(let mark, _) = service else { return .failure(PortMissing(text: "the real server has port 0")) }
        guard let ranges = groupPorts[mark], !ranges.isEmpty else {
            return .failure(PortMissing(text: "no group sets mark \(mark), so there is no port to probe"))
        }
        let low = ranges.map(\.lowerBound).min()!, high = ranges.map(\.upperBound).max()!
        guard low == high else {
            let words = ranges.map { $0.count == 1 ? "\($0.lowerBound)" : "\($0.lowerBound)-\($0.upperBound)" }
            return .failure(PortMissing(text: "the group of mark \(mark) has several ports (\(words.joined(separator: ",")))"))
        }
        return .success(low)
    }

    private struct PortMissing: Error { var text: String }

    /// A service in the words of apply's plan: `fwm 1000`, `tcp 10.0.0.5:80`.
    static func serviceWords(_ key: ServiceKey) -> String {
        switch key {
        case .inet(let p, let a, let port): "\(p) " + (a.family == .v6 ? "[\(a)]" : "\(a)") + ":\(port)"
        case .fwmark(let m, let f): f == .v4 ? "fwm \(m)" : "fwm \(m) ipv6"
        }
    }
}
