/// What one kind of health check sends and expects. The options are those of DESIGN.md's `check`
/// command; keepalived's checker of the same job is named beside each. Indirect: a probe's key is
/// kept per real server several times over, and an inline HTTP payload made each copy ~150 bytes.
public indirect enum Probe: Hashable, Sendable {
    /// A TCP connection that completes (TCP_CHECK).
    case tcp
    /// A SYN answered with a SYN-ACK; the handshake is never completed (`handshake half`).
    case tcpHalfOpen
    /// An HTTP or HTTPS request whose answer passes (HTTP_GET, SSL_GET).
    case http(HTTPProbe)
    /// A datagram, and an answer that starts with `expect` when one is given (UDP_CHECK).
    case udp(payload: [UInt8], expect: [UInt8]?)
    /// A DNS query that gets an answer with no error (DNS_CHECK).
    case dns(name: String, type: DNSRecordType)
    /// An SMTP greeting and HELO answered 2xx (SMTP_CHECK).
    case smtp(helo: String)
    /// A program: exit 0 is up, 1 down, 2–255 up with weight status − 2 (MISC_CHECK, misc_dynamic).
    case script([String])
    /// An ICMP or ICMPv6 echo answered (PING_CHECK).
    case ping
    /// A file's content: an integer (FILE_CHECK with a track_file).
    case file(path: String, weight: Int32)

    /// The word of the kind in the language: `tcp`, `http`, `https`, ...
    public var kindWord: String {
        switch self {
        case .tcp, .tcpHalfOpen: "tcp"
        case .http(let h): h.tls == nil ? "http" : "https"
        case .udp: "udp"
        case .dns: "dns"
        case .smtp: "smtp"
        case .script: "script"
        case .ping: "ping"
        case .file: "file"
        }
    }

    /// Whether the probe talks to a port of the real server (ping, script and file do not).
    public var usesPort: Bool {
        switch self {
        case .tcp, .tcpHalfOpen, .http, .udp, .dns, .smtp: true
        case .script, .ping, .file: false
        }
    }
}

/// An HTTP or HTTPS request and what its answer must be.
public struct HTTPProbe: Hashable, Sendable {
    public var path = "/"
    /// The Host header; the probed address when nil.
    public var host: String?
    /// Accepted status codes (default 200–299).
    public var status: [ClosedRange<UInt16>] = [200...299]
    /// A regular expression the body must match.
    public var expect: String?
    /// The body's MD5, 32 lower-case hex digits (keepalived's `digest`).
    public var digest: String?
    /// HTTPS when set.
    public var tls: TLSProbe?

    public init() {}
}

/// The TLS side of an HTTPS check.
public struct TLSProbe: Hashable, Sendable {
    /// The server name sent (SNI); the host, else none, when nil.
    public var sni: String?
    /// Whether the certificate must verify against the system's roots (off by default, as keepalived).
    public var verify = false

    public init() {}
}

/// DNS record types a check may query.
public enum DNSRecordType: String, CaseIterable, Hashable, Sendable {
    case a = "A", aaaa = "AAAA", ns = "NS", cname = "CNAME", soa = "SOA", ptr = "PTR", mx = "MX", txt = "TXT", srv = "SRV"

    /// The type's number on the wire (RFC 1035, 3596, 2782).
    public var code: UInt16 {
        switch self {
        case .a: 1
        case .ns: 2
        case .cname: 5
        case .soa: 6
        case .ptr: 12
        case .mx: 15
        case .txt: 16
        case .aaaa: 28
        case .srv: 33
        }
    }
}

/// A named health check: `check NAME KIND [options]`.
public struct HealthCheck: Hashable, Sendable {
    public var name: String
    public var probe: Probe
    /// Milliseconds between the starts of two probes of one real server.
    public var intervalMilliseconds: UInt32 = 2_000
    /// Milliseconds a probe may take before it counts as failed.
    public var timeoutMilliseconds: UInt32 = 1_000
    /// Successes in a row that bring a down real server up.
    public var rise: UInt32 = 2
    /// Failures in a row that take an up real server down.
    public var fall: UInt32 = 3
    /// The port probed; nil: the real server's, or the group's only port for fwmark services.
    public var port: UInt16?
    /// Probe this address instead of the real server's (keepalived's connect_ip).
    public var address: IPAddress?
    /// Bind the probe to this source address (keepalived's bindto).
    public var source: IPAddress?

    public init(name: String, probe: Probe) {
        self.name = name
        self.probe = probe
    }

    public static let defaultInterval: UInt32 = 2_000
    public static let defaultTimeout: UInt32 = 1_000
    public static let defaultRise: UInt32 = 2
    public static let defaultFall: UInt32 = 3
}

/// What happens to a real server whose checks fail.
public enum FailureAction: String, Hashable, Sendable, CaseIterable {
    /// Weight 0: no new connections, established ones finish (keepalived's inhibit_on_failure).
    case weight0
    /// Delete the real server from the service (keepalived's default).
    case remove
}

/// How one service reacts to its real servers' health.
public struct ServiceHealthPolicy: Hashable, Sendable {
    public var onFailure = FailureAction.weight0
    /// Minimum sum of live real servers' weights; below it the sorry server takes the traffic.
    public var quorum: UInt32 = 0
    /// Quorum is lost below `quorum - hysteresis` and regained at `quorum + hysteresis`.
    public var hysteresis: UInt32 = 0
    /// The real server used only while quorum is lost (its port defaults to the service's).
    public var sorry: RealServerKey?
    /// Whether a real server added while running waits for `rise` successes before traffic.
    public var alpha = true

    public init() {}

    public static let `default` = ServiceHealthPolicy()
}

/// One real server of one service: the unit health acts on.
public struct RealReference: Hashable, Sendable, Comparable {
    public var service: ServiceKey
    public var real: RealServerKey

    public init(service: ServiceKey, real: RealServerKey) {
        self.service = service
        self.real = real
    }

    public static func < (a: RealReference, b: RealReference) -> Bool {
        (a.service, a.real) < (b.service, b.real)
    }
}

/// How the daemon treats changes made behind its back.
public enum ReconcileMode: String, Hashable, Sendable, CaseIterable {
    /// Log the drift and restore the desired state (default).
    case repair
    /// Log the drift only.
    case log
}

/// What the kernel cannot hold and the daemon keeps: checks, their bindings, health policies,
/// maintenance, the metrics listener and the reconcile mode (DESIGN.md, "Where what the kernel cannot
/// hold lives").
public struct HealthConfig: Hashable, Sendable {
    /// Checks by name, in the order they were defined.
    public private(set) var checks: [HealthCheck] = []
    /// Checks every real server of a service runs, by name.
    public var serviceChecks: [ServiceKey: [String]] = [:]
    /// Checks of one real server; they replace the service's for that server.
    public var realChecks: [RealReference: [String]] = [:]
    /// Policies that differ from the default.
    public var policies: [ServiceKey: ServiceHealthPolicy] = [:]
    /// Real servers in maintenance (`disable`): drained, then weight 0, until `enable`.
    public var disabled: Set<RealReference> = []
    /// Where Prometheus text is served, if anywhere.
    public var metricsListen: ListenAddress?
    public var reconcile = ReconcileMode.repair

    public init() {}

    /// Whether the configuration says anything only a daemon can act on.
    public var isEmpty: Bool { self == HealthConfig() }

    /// Whether it can make the kernel's weights differ from the written ones: checks bound to real
    /// servers, maintenance or service policies (the metrics listener and the reconcile mode cannot).
    public var actsOnWeights: Bool {
        !serviceChecks.isEmpty || !realChecks.isEmpty || !policies.isEmpty || !disabled.isEmpty
    }

    public func check(named name: String) -> HealthCheck? { checks.first { $0.name == name } }

    /// Defines or redefines a check; a redefinition keeps its place in the order.
    public mutating func define(_ check: HealthCheck) {
        if let i = checks.firstIndex(where: { $0.name == check.name }) { checks[i] = check } else { checks.append(check) }
    }

    /// Removes a check and every binding to it.
    public mutating func removeCheck(named name: String) {
        checks.removeAll { $0.name == name }
        for (k, v) in serviceChecks { serviceChecks[k] = v.filter { $0 != name }.nilIfEmpty }
        for (k, v) in realChecks { realChecks[k] = v.filter { $0 != name }.nilIfEmpty }
    }

    /// The services and real servers that use a check, for refusals and `show checks`.
    public func users(of name: String) -> (services: [ServiceKey], reals: [RealReference]) {
        (serviceChecks.filter { $0.value.contains(name) }.keys.sorted(),
         realChecks.filter { $0.value.contains(name) }.keys.sorted())
    }

    public func policy(_ service: ServiceKey) -> ServiceHealthPolicy { policies[service] ?? .default }

    /// The first service (in ipvsadm's order) for which `isPersistent` holds and whose real servers
    /// health or maintenance can set to weight 0: its clients' persistence templates outlive a failure
    /// unless the kernel expires the templates of weight-0 servers (net.ipv4.vs.expire_quiescent_template).
    /// A failure that removes the real server (`on-failure remove`) needs no such help.
    public func persistentServiceSetToWeight0(isPersistent: (ServiceKey) -> Bool) -> ServiceKey? {
        guard actsOnWeights else { return nil }
        var found: ServiceKey?
        func consider(_ key: ServiceKey) {
            if found.map({ key < $0 }) ?? true, isPersistent(key) { found = key }
        }
        for key in serviceChecks.keys where policy(key).onFailure == .weight0 { consider(key) }
        for ref in realChecks.keys where policy(ref.service).onFailure == .weight0 { consider(ref.service) }
        for ref in disabled { consider(ref.service) }
        return found
    }

    /// The checks a real server runs: its own when it has any, else its service's.
    public func checks(of ref: RealReference) -> [HealthCheck] {
        let names = realChecks[ref] ?? serviceChecks[ref.service] ?? []
        return names.compactMap(check(named:))
    }

    /// Drops what refers to services or real servers that no longer exist.
    public mutating func prune(keeping exists: (RealReference?, ServiceKey) -> Bool) {
        serviceChecks = serviceChecks.filter { exists(nil, $0.key) }
        policies = policies.filter { exists(nil, $0.key) }
        realChecks = realChecks.filter { exists($0.key, $0.key.service) }
        disabled = disabled.filter { exists($0, $0.service) }
    }
}

/// An address and port to listen on (`metrics listen ADDRESS:PORT`).
public struct ListenAddress: Hashable, Sendable {
    public var address: IPAddress
    public var port: UInt16

    public init(address: IPAddress, port: UInt16) {
        self.address = address
        self.port = port
    }
}

extension Array {
    var nilIfEmpty: Self? { isEmpty ? nil : self }
}

/// One real server's health as `show health` reports it (DESIGN.md's frozen JSON shape).
public struct RealHealthStatus: Hashable, Sendable {
    public enum State: String, Hashable, Sendable {
        case up, down, disabled, unknown
    }

    /// The last probe's outcome.
    public struct Last: Hashable, Sendable {
        public var ok: Bool
        public var milliseconds: UInt32
        public var reason: String

        public init(ok: Bool, milliseconds: UInt32, reason: String) {
            self.ok = ok
            self.milliseconds = milliseconds
            self.reason = reason
        }
    }

    public var ref: RealReference
    /// The group whose mark the service carries, if any.
    public var group: String?
    /// The checks it runs, by name (a real server may run several: all must pass).
    public var checks: [String]
    public var state: State
    /// The weight in the kernel, nil when health removed it from the service.
    public var weight: Int32?
    public var desiredWeight: Int32
    /// Seconds since the epoch of the last change of `state`.
    public var since: Int64
    public var last: Last?

    public init(ref: RealReference, group: String?, checks: [String], state: State, weight: Int32?, desiredWeight: Int32,
                since: Int64, last: Last?) {
        self.ref = ref
        self.group = group
        self.checks = checks
        self.state = state
        self.weight = weight
        self.desiredWeight = desiredWeight
        self.since = since
        self.last = last
    }
}
