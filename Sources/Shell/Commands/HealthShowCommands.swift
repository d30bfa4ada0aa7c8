#if canImport(Glibc)
import Glibc
#endif
import Engine
import LVSModel

/// `show health` and `show checks`: what the running daemon knows of its real servers and checks.
enum HealthShowCommands {
    static let commands: [Command] = [
        Command(.sequence([.word("show", help: "show the kernel's state"),
                           .word("health", help: "each checked real server's state (lvsh daemon)"), ShowCommands.json]),
                summary: "show the health of every checked real server: state, weights, last probe",
                examples: ["show health", "show health json"], handler: .show(health)),
        Command(.sequence([.word("show", help: "show the kernel's state"),
                           .word("checks", help: "the checks defined and who runs them (lvsh daemon)"), ShowCommands.json]),
                summary: "show the health checks and the services and real servers that use them",
                examples: ["show checks"], handler: .show(checks)),
    ]

    static func daemonOnly(_ what: String) -> LVSError {
        .failed("`show \(what)` needs `lvsh daemon`: no daemon runs in this network namespace, so no checks run")
    }

    @Sendable static func health(_ b: Bindings, _ ctx: ShowContext) throws(LVSError) -> String {
        guard let status = ctx.healthStatus else { throw daemonOnly("health") }
        let rows = status().sorted { $0.ref < $1.ref }
        if ctx.json || b.has("json") { return json(rows) }
        guard !rows.isEmpty else { return "no real server runs a check\n" }
        var lines = [["SERVICE", "REAL", "CHECK", "STATE", "WEIGHT", "SINCE", "LAST"]]
        for r in rows {
            let last = r.last.map { "\($0.ok ? "ok" : "failed") \($0.milliseconds) ms\($0.reason.isEmpty ? "" : ": \($0.reason)")" } ?? "-"
            let weight = "\(r.weight.map(String.init) ?? "removed")/\(r.desiredWeight)"
            lines.append([serviceName(r), endpoint(r.ref.real.address, r.ref.real.port), r.checks.joined(separator: ","),
                          r.state.rawValue, weight, rfc3339(r.since), last])
        }
        return table(lines)
    }

    @Sendable static func checks(_ b: Bindings, _ ctx: ShowContext) throws(LVSError) -> String {
        guard ctx.healthStatus != nil else { throw daemonOnly("checks") }
        let h = ctx.health
        if ctx.json || b.has("json") {
            return TextBuffer.jsonDocument(key: "checks", h.checks) { c, o in
                let (services, reals) = h.users(of: c.name)
                o.append("{\"name\":")
                o.jsonString(c.name)
                o.append(",\"definition\":")
                o.jsonString(HealthText.definition(c))
                o.append(",\"services\":[")
                o.append(services.map { jsonQuoted(serviceObject($0)) }.joined(separator: ","))
                o.append("],\"reals\":[")
                o.append(reals.map { jsonQuoted(serviceObject($0.service) + " " + endpoint($0.real.address, $0.real.port)) }.joined(separator: ","))
                o.append("]}")
            }
        }
        guard !h.checks.isEmpty else { return "no checks are defined\n" }
        var out = ""
        for c in h.checks {
            let (services, reals) = h.users(of: c.name)
            out += HealthText.definition(c) + "\n"
            let users = services.map { "service " + serviceObject($0) } + reals.map { "real " + serviceObject($0.service) + " " + endpoint($0.real.address, $0.real.port) }
            out += users.isEmpty ? "    (not used)\n" : users.map { "    used by \($0)\n" }.joined()
        }
        return out
    }

    /// `{"reals": [...]}` in DESIGN.md's frozen shape.
    static func json(_ rows: [RealHealthStatus]) -> String {
        TextBuffer.jsonDocument(key: "reals", rows) { r, o in
            o.append("{\"service\":")
            o.jsonString(serviceObject(r.ref.service))
            o.append(",\"group\":")
            o.jsonString(r.group)
            o.append(",\"address\":")
            o.jsonAddress(r.ref.real.address)
            o.append(",\"port\":")
            o.jsonInt(r.ref.real.port)
            o.append(",\"check\":")
            o.jsonString(r.checks.joined(separator: ","))
            o.append(",\"state\":")
            o.jsonString(r.state.rawValue)
            o.append(",\"weight\":")
            if let w = r.weight { o.jsonInt(w) } else { o.append("null") }
            o.append(",\"desired_weight\":")
            o.jsonInt(r.desiredWeight)
            o.append(",\"since\":")
            o.jsonString(rfc3339(r.since))
            o.append(",\"last\":")
            if let l = r.last {
                o.append("{\"ok\":")
                o.append(l.ok ? "true" : "false")
                o.append(",\"ms\":")
                o.jsonInt(l.milliseconds)
                o.append(",\"reason\":")
                o.jsonString(l.reason)
                o.append("}")
            } else {
                o.append("null")
            }
            o.append("}")
        }
    }

    /// apply's object form: "fwm 1000", "tcp 10.0.0.5:80".
    static func serviceObject(_ key: ServiceKey) -> String { PlanDescription.name(key) }

    static func serviceName(_ r: RealHealthStatus) -> String {
        r.group.map { "\($0) (\(serviceObject(r.ref.service)))" } ?? serviceObject(r.ref.service)
    }

    static func endpoint(_ a: IPAddress, _ port: UInt16) -> String { a.endpoint(port) }

    static func jsonQuoted(_ s: String) -> String { TextBuffer.text { $0.jsonString(s) } }

    /// "2026-12-03T02:42:39Z".
    static func rfc3339(_ seconds: Int64) -> String {
        var t = time_t(seconds)
        var tm = tm()
        gmtime_r(&t, &tm)
        func two(_ v: Int32) -> String { v < 10 ? "0\(v)" : "\(v)" }
        return "\(tm.tm_year + 1900)-\(two(tm.tm_mon + 1))-\(two(tm.tm_mday))T\(two(tm.tm_hour)):\(two(tm.tm_min)):\(two(tm.tm_sec))Z"
    }

    /// Columns padded to their widest cell.
    static func table(_ rows: [[String]]) -> String {
        let widths = rows[0].indices.map { i in rows.map { $0[i].count }.max() ?? 0 }
        return rows.map { row in
            row.enumerated().map { i, cell in i == row.count - 1 ? cell : cell.padding(widths[i]) }.joined(separator: "  ")
        }.joined(separator: "\n") + "\n"
    }
}
