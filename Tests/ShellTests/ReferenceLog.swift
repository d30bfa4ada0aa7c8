import LVSModel

/// Formats kernel operations the way the fake-kernel shim logs ipvsadm's requests
/// (see IPVSAdmReferenceCases.swift), so lvsh's operations compare line for line.
enum ReferenceLog {
    static func line(_ op: IPVSOperation) -> String {
        switch op {
        case .addService(let s): "new-service " + service(s)
        case .editService(let s): "set-service " + service(s)
        case .deleteService(let k): "del-service " + key(k)
        case .addRealServer(let k, let r): "new-dest " + key(k) + " " + destination(r)
        case .editRealServer(let k, let r): "set-dest " + key(k) + " " + destination(r)
        case .deleteRealServer(let k, let r): "del-dest \(key(k)) dest[af=\(r.address.family.rawValue) addr=\(r.address) port=\(r.port)]"
        case .flush: "flush"
        case .zero(let k): k.map { "zero " + key($0) } ?? "zero"
        case .setTimeouts(let t): "set-config timeouts[\(t.tcp) \(t.tcpFin) \(t.udp)]"
        case .startDaemon(let d): "new-daemon " + daemon(d)
        case .stopDaemon(let role): "del-daemon daemon[state=\(role.rawValue)]"
        }
    }

    private static func keyFields(_ k: ServiceKey) -> String {
        switch k {
        case .inet(let p, let a, let port): "af=\(a.family.rawValue) proto=\(p.rawValue) addr=\(a) port=\(port)"
        case .fwmark(let m, let f): "af=\(f.rawValue) fwmark=\(m)"
        }
    }

    private static func key(_ k: ServiceKey) -> String { "svc[\(keyFields(k))]" }

    private static func hex(_ v: UInt32) -> String { v == 0 ? "0" : "0x" + String(v, radix: 16) }

    private static func service(_ s: VirtualService) -> String {
        var out = "svc[\(keyFields(s.key)) sched=\(s.scheduler)"
        if let pe = s.persistenceEngine { out += " pe=\(pe)" }
        return out + " flags=\(hex(s.flags.rawValue)) timeout=\(s.timeout) netmask=\(hex(s.netmask))]"
    }

    private static func destination(_ r: RealServer) -> String {
        "dest[af=\(r.address.family.rawValue) addr=\(r.address) port=\(r.port) fwd=\(r.forwarding.rawValue) weight=\(r.weight) "
            + "u=\(r.upperThreshold) l=\(r.lowerThreshold) tuntype=\(r.tunnelType.rawValue) tunport=\(r.tunnelPort) tunflags=\(r.tunnelFlags.rawValue)]"
    }

    private static func daemon(_ d: SyncDaemon) -> String {
        var out = "daemon[state=\(d.role.rawValue) ifn=\(d.interface) syncid=\(d.syncID)"
        if d.maxLength != 0 { out += " maxlen=\(d.maxLength)" }
        if let g = d.group { out += " group=\(g)" }
        if d.port != 0 { out += " port=\(d.port)" }
        if d.ttl != 0 { out += " ttl=\(d.ttl)" }
        return out + "]"
    }
}
