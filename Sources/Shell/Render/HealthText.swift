import LVSModel

/// The daemon's part of a configuration as lvsh commands, for `show running-config` and `save`:
/// the checks, then their bindings and the services' policies (which need the services before them),
/// maintenance, metrics and the reconcile mode. Parsing the lines back gives the same HealthConfig.
enum HealthText {
    /// `reference` names a service as the running configuration does (by group where it can).
    static func render(_ h: HealthConfig, reference: (ServiceKey) -> String, into out: inout TextBuffer) {
        guard !h.isEmpty else { return }
        if !h.checks.isEmpty {
            out.append("\n")
            for c in h.checks { out.append(definition(c) + "\n") }
        }
        var lines: [String] = []
        for key in Set(h.serviceChecks.keys).union(h.policies.keys).sorted() {
            let ref = reference(key)
            for name in h.serviceChecks[key] ?? [] { lines.append("service \(ref) check \(name)") }
            if let p = h.policies[key], let words = policy(p, key) { lines.append("service \(ref) \(words)") }
        }
        for r in Set(h.realChecks.keys).union(h.disabled).sorted() {
            let real = "real \(reference(r.service)) \(endpoint(r.real.address, r.real.port))"
            for name in h.realChecks[r] ?? [] { lines.append("\(real) check \(name)") }
            if h.disabled.contains(r) { lines.append("\(real) disable") }
        }
        if let m = h.metricsListen { lines.append("metrics listen \(endpoint(m.address, m.port))") }
        if h.reconcile != .repair { lines.append("set reconcile \(h.reconcile.rawValue)") }
        if !lines.isEmpty {
            out.append("\n")
            for l in lines { out.append(l + "\n") }
        }
    }

    /// `check NAME KIND OPTIONS`, defaults left out.
    static func definition(_ c: HealthCheck) -> String {
        var w = ["check", c.name, c.probe.kindWord]
        if c.intervalMilliseconds != HealthCheck.defaultInterval { w += ["interval", Seconds.text(c.intervalMilliseconds)] }
        if c.timeoutMilliseconds != HealthCheck.defaultTimeout { w += ["timeout", Seconds.text(c.timeoutMilliseconds)] }
        if c.rise != HealthCheck.defaultRise { w += ["rise", String(c.rise)] }
        if c.fall != HealthCheck.defaultFall { w += ["fall", String(c.fall)] }
        if let p = c.port { w += ["port", String(p)] }
        if let a = c.address { w += ["address", a.description] }
        if let s = c.source { w += ["source", s.description] }
        switch c.probe {
        case .tcp, .ping:
            break
        case .tcpHalfOpen:
            w += ["handshake", "half"]
        case .http(let h):
            if h.path != "/" { w += ["path", quoted(h.path)] }
            if let host = h.host { w += ["host", host] }
            if h.status != [200...299] { w += ["status", StatusList.text(h.status)] }
            if let e = h.expect { w += ["expect", quoted(e)] }
            if let d = h.digest { w += ["digest", d] }
            if let t = h.tls {
                if let sni = t.sni { w += ["sni", quoted(sni)] }
                if t.verify { w += ["verify", "on"] }
            }
        case .udp(let payload, let expect):
            if !payload.isEmpty { w += ["payload", Hex.text(payload)] }
            if let e = expect { w += ["expect", Hex.text(e)] }
        case .dns(let name, let type):
            if name != "." { w += ["query", name] }
            if type != .soa { w += ["type", type.rawValue] }
        case .smtp(let helo):
            if !helo.isEmpty { w += ["helo", helo] }
        case .script(let program):
            w += program.map(quoted)
        case .file(let path, let weight):
            w += ["path", quoted(path)]
            if weight != 0 { w += ["weight", String(weight)] }
        }
        return w.joined(separator: " ")
    }

    /// "on-failure remove quorum 3 hysteresis 1 sorry 10.0.0.9:80 alpha off", or nil for the defaults.
    static func policy(_ p: ServiceHealthPolicy, _ key: ServiceKey) -> String? {
        var w: [String] = []
        if p.onFailure != .weight0 { w += ["on-failure", p.onFailure.rawValue] }
        if p.quorum != 0 { w += ["quorum", String(p.quorum)] }
        if p.hysteresis != 0 { w += ["hysteresis", String(p.hysteresis)] }
        if let s = p.sorry { w += ["sorry", endpoint(s.address, s.port)] }
        if !p.alpha { w += ["alpha", "off"] }
        return w.isEmpty ? nil : w.joined(separator: " ")
    }

    static func endpoint(_ a: IPAddress, _ port: UInt16) -> String { a.endpoint(port) }

    /// A word as the tokenizer reads it back: single quotes when it holds anything it would interpret.
    static func quoted(_ word: String) -> String {
        let plain = !word.isEmpty && word.unicodeScalars.allSatisfy { s in
            s.value > 32 && s.value != 127 && !"'\"\\#;$`".unicodeScalars.contains(s)
        }
        if plain { return word }
        return "'" + word.replacingAll("'", with: "'\\''") + "'"
    }
}

extension String {
    func replacingAll(_ target: Character, with replacement: String) -> String {
        var out = ""
        for ch in self { if ch == target { out += replacement } else { out.append(ch) } }
        return out
    }
}
