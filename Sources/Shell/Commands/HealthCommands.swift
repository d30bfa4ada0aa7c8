import LVSModel
import Engine

/// `check NAME KIND [options]`, `metrics listen`, `set reconcile`, and the health options of `service`
/// and `real`: the part of a configuration only `lvsh daemon` acts on (DESIGN.md, "Checks").
enum HealthCommands {
    static let common: [Syntax] = [
        .option("interval", .seconds, help: "seconds between two probes of a real server (default 2)"),
        .option("timeout", .seconds, help: "seconds a probe may take before it fails (default 1)"),
        .option("rise", .number(1...1000), help: "successes in a row that bring a real server up (default 2)"),
        .option("fall", .number(1...1000), help: "failures in a row that take a real server down (default 3)"),
        .option("address", .address, help: "probe this address instead of the real server's"),
        .option("source", .address, help: "send probes from this address"),
    ]
    static let port: Syntax = .option("port", .number(1...65535), help: "the port probed (default: the real server's, or its group's only port)")

    static let httpOptions: [Syntax] = [
        .option("path", .text, help: "the path requested (default /)"),
        .option("host", .text, help: "the Host header (default: the address probed)"),
        .option("status", .statuses, help: "statuses that pass (default 200-299)"),
        .option("expect", .regex, help: "a regular expression the body must match"),
        .option("digest", .text, help: "the body's MD5 in hex, as keepalived's digest"),
    ]

    static let kinds: [Syntax] = [
        .sequence([.word("tcp", help: "a TCP connection that completes"),
                   .anyOrder(common + [port,
                                       .sequence([.word("handshake", help: "how much of the TCP handshake the check makes"),
                                                  .oneOf("handshake", [("full", "connect and close, as keepalived's TCP_CHECK (default)"),
                                                                       ("half", "SYN, then SYN-ACK up or RST down; the application never sees it (root)")])])])]),
        .sequence([.word("http", help: "an HTTP request whose answer passes"), .anyOrder(common + [port] + httpOptions)]),
        .sequence([.word("https", help: "an HTTPS request whose answer passes"),
                   .anyOrder(common + [port] + httpOptions + [
                       .option("sni", .text, help: "the TLS server name (default: the host)"),
                       .sequence([.word("verify", help: "check the certificate against the system's roots"),
                                  .oneOf("verify", [("on", "refuse certificates that do not verify"), ("off", "take any certificate (default)")])]),
                   ])]),
        .sequence([.word("udp", help: "a datagram, and an answer"),
                   .anyOrder(common + [port,
                                       .option("payload", .hex, help: "the datagram, in hex (default empty)"),
                                       .option("expect", .hex, help: "what the answer must start with, in hex")])]),
        .sequence([.word("dns", help: "a DNS query answered without error"),
                   .anyOrder(common + [port,
                                       .option("query", .text, help: "the name asked (default .)"),
                                       .sequence([.word("type", help: "the record type asked (default SOA)"),
                                                  .oneOf("type", DNSRecordType.allCases.map { ($0.rawValue, "\($0.rawValue) records") })])])]),
        .sequence([.word("smtp", help: "an SMTP greeting and HELO answered"),
                   .anyOrder(common + [port, .option("helo", .text, help: "the name sent in HELO (default: this host's)")])]),
        .sequence([.word("script", help: "a program: exit 0 up, 1 down, 2-255 up with weight status-2"),
                   .anyOrder(common), .rest("program", help: "the program and its arguments")]),
        .sequence([.word("ping", help: "an ICMP echo answered"), .anyOrder(common)]),
        .sequence([.word("file", help: "a file's content: a number (keepalived's FILE_CHECK)"),
                   .anyOrder(common + [.option("path", .file, help: "the file read"),
                                       .option("weight", .number(0...254), help: "the weight per unit of the file's number (0: non-zero is down)")])]),
    ]

    static let commands: [Command] = [
        Command(.sequence([.word("check", help: "a health check that real servers can run"),
                           .value("check", .name, help: "its name"), .choice(kinds)]),
                summary: "define a health check (run by `lvsh daemon` for the real servers bound to it)",
                examples: ["check web-http http path /health status 200 interval 1 timeout 1 rise 2 fall 2",
                           "check db script timeout 3 /usr/local/bin/check-db --quick"],
                handler: .change(define)),
        Command(.sequence([.word("no", help: "remove what the command after it creates"),
                           .word("check", help: "a health check"), .value("check", .checkName, help: "its name")]),
                summary: "remove a health check that nothing uses", examples: ["no check web-http"], handler: .change(remove)),
        Command(.sequence([.word("metrics", help: "Prometheus metrics of lvsh daemon"),
                           .word("listen", help: "serve /metrics"),
                           .value("listen", .endpoint, help: "the address and port to serve on")]),
                summary: "serve Prometheus metrics at http://ADDRESS:PORT/metrics (lvsh daemon)",
                examples: ["metrics listen 127.0.0.1:9542"], handler: .change(listen)),
        Command(.sequence([.word("no", help: "remove what the command after it creates"),
                           .word("metrics", help: "Prometheus metrics"), .word("listen", help: "stop serving them")]),
                summary: "stop serving metrics", examples: ["no metrics listen"], handler: .change(stopListening)),
        Command(.sequence([.word("set", help: "a setting of lvsh daemon"),
                           .word("reconcile", help: "what the daemon does with changes made behind its back"),
                           .oneOf("reconcile", [("repair", "log them and restore the configuration (default)"),
                                                ("log", "log them only")])]),
                summary: "choose whether lvsh daemon repairs drift or only logs it",
                examples: ["set reconcile log"], handler: .change(reconcile)),
    ]

    // MARK: check definitions

    @Sendable static func define(_ b: Bindings, _ c: inout Candidate) throws(LVSError) {
        let name = b.first("check")!
        let check = try build(name, b)
        try c.changeHealth("`check \(name)`") { (h) throws(LVSError) in h.define(check) }
    }

    /// The check the bindings describe, with its options checked against each other.
    static func build(_ name: String, _ b: Bindings) throws(LVSError) -> HealthCheck {
        let probe: Probe
        if b.has("tcp") {
            probe = b.first("handshake") == "half" ? .tcpHalfOpen : .tcp
        } else if b.has("http") || b.has("https") {
            var h = HTTPProbe()
            if let p = b.first("path") {
                guard p.hasPrefix("/"), !p.contains(where: { $0.isWhitespace || $0.asciiValue.map { $0 < 32 || $0 == 127 } ?? false }) else {
                    throw .badInput("path '\(Shown.word(p))' must start with / and hold no spaces or control characters")
                }
                h.path = p
            }
            if let host = b.first("host") {
                guard !host.isEmpty, host.allSatisfy({ $0.isASCII && !$0.isWhitespace && $0.asciiValue! >= 33 }) else {
                    throw .badInput("host '\(Shown.word(host))' must be a host name without spaces or control characters")
                }
                h.host = host
            }
            if let s = b.statuses("status") { h.status = s }
            if let e = b.first("expect") {
                do {
                    _ = try Regex(e)
                } catch {
                    throw .badInput("expect '\(Shown.word(e))' is not a regular expression: \(error)")
                }
                h.expect = e
            }
            if let d = b.first("digest") {
                guard d.utf8.count == 32, let bytes = Hex.bytes(d), bytes.count == 16 else {
                    throw .badInput("digest '\(Shown.word(d))' is not an MD5 digest: give its 32 hex digits (`md5sum` prints them)")
                }
                h.digest = Hex.text(bytes)
            }
            if b.has("https") {
                var t = TLSProbe()
                t.sni = b.first("sni")
                t.verify = b.first("verify") == "on"
                h.tls = t
            }
            probe = .http(h)
        } else if b.has("udp") {
            probe = .udp(payload: b.bytes("payload") ?? [], expect: b.bytes("expect"))
        } else if b.has("dns") {
            let q = b.first("query") ?? "."
            guard DNSName.isValid(q) else {
                throw .badInput("query '\(Shown.word(q))' is not a DNS name: labels of 1 to 63 letters, digits, '-' or '_', 255 bytes in all")
            }
            probe = .dns(name: q, type: b.first("type").flatMap(DNSRecordType.init(rawValue:)) ?? .soa)
        } else if b.has("smtp") {
            let helo = b.first("helo") ?? ""
            guard helo.allSatisfy({ $0.isASCII && !$0.isWhitespace && $0.asciiValue! >= 33 }) else {
                throw .badInput("helo '\(Shown.word(helo))' must be one word of printable ASCII")
            }
            probe = .smtp(helo: helo)
        } else if b.has("script") {
            let program = b.all("program")
            guard let first = program.first, !first.isEmpty else {
                throw .badInput("script needs the program to run, e.g. `check \(name) script /usr/local/bin/check-db`")
            }
            guard first.hasPrefix("/") else {
                throw .badInput("'\(Shown.word(first))': give the program's absolute path (the daemon runs it without a shell or PATH)")
            }
            probe = .script(program)
        } else if b.has("ping") {
            probe = .ping
        } else {
            guard let path = b.first("path"), path.hasPrefix("/") else {
                throw .badInput("a file check needs `path /ABSOLUTE/FILE`, the file whose number it reads")
            }
            probe = .file(path: path, weight: Int32(b.number("weight") ?? 0))
        }
        var check = HealthCheck(name: name, probe: probe)
        if let i = b.number("interval") { check.intervalMilliseconds = UInt32(i) }
        if let t = b.number("timeout") { check.timeoutMilliseconds = UInt32(t) }
        if let r = b.number("rise") { check.rise = UInt32(r) }
        if let f = b.number("fall") { check.fall = UInt32(f) }
        check.port = b.number("port").map(UInt16.init)
        check.address = b.address("address")
        check.source = b.address("source")
        if let a = check.address, let s = check.source, a.family != s.family {
            throw .badInput("address \(a) and source \(s) are of different families: give both IPv4 or both IPv6")
        }
        guard check.timeoutMilliseconds <= check.intervalMilliseconds else {
            throw .badInput("timeout \(Seconds.text(check.timeoutMilliseconds)) is longer than interval \(Seconds.text(check.intervalMilliseconds)): a probe would still run when the next one starts; lower timeout or raise interval")
        }
        return check
    }

    @Sendable static func remove(_ b: Bindings, _ c: inout Candidate) throws(LVSError) {
        let name = b.first("check")!
        let snapshot = c
        func describe(_ key: ServiceKey) -> String { ServiceReference.describe(key, in: snapshot) }
        try c.changeHealth("`no check \(name)`") { (h) throws(LVSError) in
            guard h.check(named: name) != nil else { throw .badInput("there is no check \(name)") }
            let (services, reals) = h.users(of: name)
            guard services.isEmpty && reals.isEmpty else {
                let users = services.map { "service \(describe($0))" } + reals.map { "real \($0.real.address) of \(describe($0.service))" }
                throw .badInput("check \(name) is in use by \(users.prefix(3).joined(separator: ", "))\(users.count > 3 ? " and \(users.count - 3) more" : ""); remove those bindings first (`no service REF check \(name)`)")
            }
            h.removeCheck(named: name)
        }
    }

    @Sendable static func listen(_ b: Bindings, _ c: inout Candidate) throws(LVSError) {
        let (address, port) = b.endpoint("listen")!
        try c.changeHealth("`metrics listen`") { (h) throws(LVSError) in h.metricsListen = ListenAddress(address: address, port: port!) }
    }

    @Sendable static func stopListening(_ b: Bindings, _ c: inout Candidate) throws(LVSError) {
        try c.changeHealth("`no metrics listen`") { (h) throws(LVSError) in h.metricsListen = nil }
    }

    @Sendable static func reconcile(_ b: Bindings, _ c: inout Candidate) throws(LVSError) {
        let mode = ReconcileMode(rawValue: b.first("reconcile")!)!
        try c.changeHealth("`set reconcile`") { (h) throws(LVSError) in h.reconcile = mode }
    }

    // MARK: the health options of `service` and `real`

    static let serviceOptions: [Syntax] = [
        .option("check", .checkName, help: "a check every real server of the service runs (repeat the line for more)"),
        .sequence([.word("on-failure", help: "what a failed real server gets"),
                   .oneOf("on-failure", [("weight0", "weight 0: established connections finish (default)"),
                                         ("remove", "removed from the service")])]),
        .option("quorum", .number(1...UInt64(UInt32.max)), help: "the live weight below which the sorry server takes over"),
        .option("hysteresis", .number(0...UInt64(UInt32.max)), help: "how far past quorum the live weight must move to change state"),
        .option("sorry", .realServer, help: "the real server used only while quorum is lost"),
        .sequence([.word("alpha", help: "whether a new real server waits for its checks"),
                   .oneOf("alpha", [("on", "traffic only after `rise` successes (default)"), ("off", "traffic at once")])]),
    ]

    static let serviceOptionNames = ["check", "on-failure", "quorum", "hysteresis", "sorry", "alpha"]

    /// The health options of one `service` line, for each service it names.
    static func putService(_ b: Bindings, _ keys: [ServiceKey], _ c: inout Candidate) throws(LVSError) {
        guard serviceOptionNames.contains(where: b.has) else { return }
        let check = b.first("check")
        try c.changeHealth("`service ... \(serviceOptionNames.first(where: b.has)!)`") { (h) throws(LVSError) in
            if let check, h.check(named: check) == nil {
                throw .badInput("there is no check \(check): define it first with `check \(check) KIND ...`")
            }
            for key in keys {
                if let check, !(h.serviceChecks[key] ?? []).contains(check) { h.serviceChecks[key, default: []].append(check) }
                var p = h.policy(key)
                if let f = b.first("on-failure") { p.onFailure = FailureAction(rawValue: f)! }
                if let q = b.number("quorum") { p.quorum = UInt32(q) }
                if let y = b.number("hysteresis") { p.hysteresis = UInt32(y) }
                if let (a, port) = b.endpoint("sorry") {
                    guard a.family == key.family else {
                        throw .badInput("sorry server \(a) is not of the service's family (\(key.family)); give an \(key.family) address")
                    }
                    p.sorry = RealServerKey(address: a, port: port ?? key.port)
                }
                if let a = b.first("alpha") { p.alpha = a == "on" }
                if p.hysteresis > p.quorum {
                    throw .badInput("hysteresis \(p.hysteresis) is larger than quorum \(p.quorum): give a quorum of at least the hysteresis")
                }
                h.policies[key] = p == .default ? nil : p
            }
        }
    }

    static let noServiceOptions: [Syntax] = [
        .option("check", .checkName, help: "stop running this check for the service's real servers"),
        .oneOf("health", [("quorum", "drop the quorum (and its sorry server)"), ("sorry", "drop the sorry server"),
                          ("on-failure", "back to weight0"), ("alpha", "back to alpha on")]),
    ]

    /// `no service REF check NAME|quorum|sorry|on-failure|alpha`; false when the line is not one of them.
    static func removeFromService(_ b: Bindings, _ keys: [ServiceKey], _ c: inout Candidate) throws(LVSError) -> Bool {
        guard b.has("check") || b.has("health") else { return false }
        let check = b.first("check"), what = b.first("health")
        let names = Dictionary(uniqueKeysWithValues: keys.map { ($0, ServiceReference.describe($0, in: c)) })
        try c.changeHealth("`no service ... \(check != nil ? "check" : what!)`") { (h) throws(LVSError) in
            for key in keys {
                if let check {
                    guard let names = h.serviceChecks[key], names.contains(check) else {
                        throw .badInput("service \(names[key]!) does not run check \(check)")
                    }
                    h.serviceChecks[key] = names.filter { $0 != check }.nilIfEmpty
                }
                var p = h.policy(key)
                switch what {
                case "quorum": p.quorum = 0; p.hysteresis = 0; p.sorry = nil
                case "sorry": p.sorry = nil
                case "on-failure": p.onFailure = .weight0
                case "alpha": p.alpha = true
                default: break
                }
                h.policies[key] = p == .default ? nil : p
            }
        }
        return true
    }

    static let realOptions: [Syntax] = [
        .option("check", .checkName, help: "a check this real server runs instead of its service's (repeat the line for more)"),
        .oneOf("maintenance", [("disable", "maintenance: drain it, then weight 0, until enable (never deleted)"),
                               ("enable", "end maintenance")]),
    ]

    static func realHasHealthOptions(_ b: Bindings) -> Bool { b.has("check") || b.has("maintenance") }

    /// The health options of one `real` line.
    static func putReal(_ b: Bindings, _ ref: RealReference, _ c: inout Candidate) throws(LVSError) {
        guard realHasHealthOptions(b) else { return }
        let check = b.first("check")
        try c.changeHealth("`real ... \(check != nil ? "check" : b.first("maintenance")!)`") { (h) throws(LVSError) in
            if let check {
                guard h.check(named: check) != nil else {
                    throw .badInput("there is no check \(check): define it first with `check \(check) KIND ...`")
                }
                if !(h.realChecks[ref] ?? []).contains(check) { h.realChecks[ref, default: []].append(check) }
            }
            switch b.first("maintenance") {
            case "disable": h.disabled.insert(ref)
            case "enable": h.disabled.remove(ref)
            default: break
            }
        }
    }

    /// `no real REF ADDRESS check NAME`.
    static func removeFromReal(_ name: String, _ ref: RealReference, _ c: inout Candidate) throws(LVSError) {
        let service = ServiceReference.describe(ref.service, in: c)
        try c.changeHealth("`no real ... check`") { (h) throws(LVSError) in
            guard let names = h.realChecks[ref], names.contains(name) else {
                throw .badInput("real server \(ref.real.address) of \(service) does not run check \(name) of its own")
            }
            h.realChecks[ref] = names.filter { $0 != name }.nilIfEmpty
        }
    }
}

/// DNS names as a check may query them.
enum DNSName {
    static func isValid(_ name: String) -> Bool {
        if name == "." { return true }
        let trimmed = name.hasSuffix(".") ? String(name.dropLast()) : name
        guard !trimmed.isEmpty, trimmed.utf8.count <= 253 else { return false }
        return trimmed.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { label in
            (1...63).contains(label.utf8.count) && label.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }
        }
    }
}

extension Array {
    var nilIfEmpty: Self? { isEmpty ? nil : self }
}
