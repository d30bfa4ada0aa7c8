import LVSModel

/// One check of one real server, bound to the probe that serves it.
public struct CheckBinding: Hashable, Sendable {
    /// The real server's place among all real servers of the plan's services, counted across them
    /// (`ProbePlan.ref(ofReal:)` names it): 4 bytes where its `RealReference` was 56 in every binding.
    public var real: UInt32
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
///
/// Each binding is kept once, in `all`; the probes refer to theirs by index. Kept per real server
/// in dictionaries of arrays (by real server, and again by probe), the plan was 680 bytes of the
/// daemon's memory a real server at 10,000 real servers. Real servers are known by their place
/// among all real servers of `services` (the desired table, shared with the caller's array).
public struct ProbePlan: Sendable {
    /// One distinct probe: its interval (the shortest among the checks that share it) and the checks
    /// its result goes to, as indices in `all`.
    public struct ProbeUse: Sendable {
        public private(set) var interval: UInt32
        private var first: UInt32
        /// Most probes serve one check: the others of a shared one, without an array for the rest.
        private var rest: [UInt32] = []

        init(interval: UInt32, first: Int) {
            self.interval = interval
            self.first = UInt32(first)
        }

        mutating func add(_ index: Int, interval: UInt32) {
            rest.append(UInt32(index))
            self.interval = min(self.interval, interval)
        }

        /// How many checks share the probe.
        public var count: Int { 1 + rest.count }

        /// The index in `all` of the n-th check served, in the order they were bound.
        public func index(_ n: Int) -> Int { n == 0 ? Int(first) : Int(rest[n - 1]) }
    }

    /// Every check of every real server, those of one real server together and in the order the
    /// configuration names them, real servers in the order of the services given.
    public private(set) var all: [CheckBinding] = []
    /// Each distinct probe and the checks it serves.
    public private(set) var users: [ProbeKey: ProbeUse] = [:]
    /// Checks that could not be bound (no port to probe); those real servers run their other checks.
    public private(set) var errors: [ProbeBindingError] = []
    /// The services bound, in the caller's order: what a real server's place refers to.
    public private(set) var services: [ServiceStatus] = []
    /// For each service, the place of its first real server.
    private var firstReal: [UInt32] = []

    public init() {}

    /// How many real servers the services have, all of them, checked or not.
    public var realCount: Int { services.last.map { Int(firstReal[firstReal.count - 1]) + $0.realServers.count } ?? 0 }

    /// The place of a service's first real server; its others follow it.
    public func firstReal(ofService index: Int) -> Int { Int(firstReal[index]) }

    /// The service (its index in `services`) that holds the real server at `place`.
    public func service(ofReal place: Int) -> Int {
        // The last service whose first place is at or before it: a service without real servers
        // shares its first place with the next one, which is the one that holds it.
        var low = 0, high = firstReal.count
        while high - low > 1 {
            let mid = (low + high) / 2
            if Int(firstReal[mid]) <= place { low = mid } else { high = mid }
        }
        return low
    }

    /// The real server at `place`.
    public func ref(ofReal place: Int) -> RealReference {
        let s = service(ofReal: place)
        return RealReference(service: services[s].service.key,
                             real: services[s].realServers[place - Int(firstReal[s])].server.identity)
    }

    /// Binds the checks of `config` to the real servers of `services`. `groupPorts` gives, for each
    /// firewall mark, the port ranges of the group that sets it (the daemon knows the groups): a check
    /// of an fwmark service's real server with port 0 probes the group's only port.
    public init(services: [ServiceStatus], config: HealthConfig, groupPorts: [UInt32: [ClosedRange<UInt16>]] = [:]) {
        self.services = services
        firstReal.reserveCapacity(services.count)
        var place = 0
        for status in services {
            let key = status.service.key
            firstReal.append(UInt32(place))
            for real in status.realServers {
                let ref = RealReference(service: key, real: real.server.identity)
                var seen: Set<String> = []
                for check in config.checks(of: ref) where seen.insert(check.name).inserted {
                    switch Self.bind(check, to: ref, place: place, groupPorts: groupPorts) {
                    case .success(let binding): add(binding)
                    case .failure(let error): errors.append(error)
                    }
                }
                place += 1
            }
        }
        // Exactly as long as needed: appends leave up to twice the room (and Array(all) keeps it).
        all = all.withUnsafeBufferPointer { Array($0) }
    }

    private mutating func add(_ binding: CheckBinding) {
        var binding = binding
        let index = all.count
        if let known = users.index(forKey: binding.key) {
            // The probe's key once in memory, however many checks share it.
            binding.key = users.keys[known]
            users.values[known].add(index, interval: binding.intervalMilliseconds)
        } else {
            users[binding.key] = ProbeUse(interval: binding.intervalMilliseconds, first: index)
        }
        all.append(binding)
    }

    /// Each distinct probe and its interval in milliseconds: the scheduler's input.
    public var probes: [ProbeKey: UInt32] { users.mapValues(\.interval) }

    /// The checks of one real server (a search of `all`: for tests and tools, not for every result).
    public func bindings(of ref: RealReference) -> [CheckBinding] { all.filter { self.ref(ofReal: Int($0.real)) == ref } }

    /// The probe one check of one real server runs, by DESIGN.md's port rule: the check's `port`,
    /// else the real server's, else (fwmark services, port 0) the only port of the service's group.
    /// `place`: the real server's place in the plan.
    public static func bind(_ check: HealthCheck, to ref: RealReference, place: Int,
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
        return .success(CheckBinding(real: UInt32(place), check: check.name, key: key, rise: max(check.rise, 1),
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
