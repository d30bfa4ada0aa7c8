import Firewall
import LVSModel

/// How a plan step reads in `--check`, `--dry-run` and the `plan` array of `apply --json`.
package enum PlanDescription {
    /// The step's operation name and the object it acts on: ("add-service", "fwm 1000").
    package static func op(_ step: Step) -> (op: String, object: String) {
        switch step {
        case .ipvs(let op):
            switch op {
            case .addService(let s): return ("add-service", name(s.key))
            case .editService(let s): return ("edit-service", name(s.key))
            case .deleteService(let k): return ("delete-service", name(k))
            case .addRealServer(let k, let r): return ("add-real", name(k) + " -> " + endpoint(r.address, r.port))
            case .editRealServer(let k, let r): return ("edit-real", name(k) + " -> " + endpoint(r.address, r.port))
            case .deleteRealServer(let k, let r): return ("delete-real", name(k) + " -> " + endpoint(r.address, r.port))
            case .flush: return ("flush", "ipvs")
            case .zero(let k): return ("zero", k.map(name) ?? "ipvs")
            case .setTimeouts: return ("set-timeouts", "ipvs")
            case .startDaemon(let d): return ("start-sync", "sync \(d.role.name)")
            case .stopDaemon(let r): return ("stop-sync", "sync \(r.name)")
            }
        case .groups(let c):
            switch c {
            case .put(let g): return ("put-group", "group \(g.name)")
            case .addEntries(let n, _): return ("add-group-entries", "group \(n)")
            case .deleteEntries(let n, _): return ("delete-group-entries", "group \(n)")
            case .delete(let n): return ("delete-group", "group \(n)")
            }
        case .sysctl(let name, _):
            return ("set-sysctl", name)
        }
    }

    /// "fwm 1000", "tcp 192.168.61.129:80", "fwm 1000 ipv6".
    package static func name(_ key: ServiceKey) -> String {
        switch key {
        case .inet(let p, let a, let port): "\(p) \(endpoint(a, port))"
        case .fwmark(let m, let f): f == .v6 ? "fwm \(m) ipv6" : "fwm \(m)"
        }
    }

    package static func endpoint(_ a: IPAddress, _ port: UInt16) -> String {
        a.endpoint(port)
    }
}
