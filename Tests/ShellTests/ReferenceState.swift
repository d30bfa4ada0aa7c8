import LVSModel

/// Reads the fake-kernel shim's state format (see IPVSAdmListingGoldens.swift) into
/// model values, so lvsh renders exactly what ipvsadm rendered from the same state.
struct ReferenceState {
    var info = IPVSInfo(version: 0x010201, connectionTableSize: 4096)
    var table = IPVSTable()
    var timeouts = Timeouts.kernelDefault
    var daemons: [SyncDaemon] = []

    init(_ lines: [String]) {
        for line in lines {
            let words = line.split(separator: " ")
            guard let kind = words.first else { continue }
            var kv: [String: String] = [:]
            for w in words.dropFirst() {
                if let eq = w.firstIndex(of: "=") { kv[String(w[..<eq])] = String(w[w.index(after: eq)...]) }
            }
            func u(_ k: String, _ d: UInt64 = 0) -> UInt64 {
                guard let v = kv[k] else { return d }
                return v.hasPrefix("0x") ? UInt64(v.dropFirst(2), radix: 16)! : UInt64(v)!
            }
            switch kind {
            case "info":
                info = IPVSInfo(version: UInt32(words[1].dropFirst(2), radix: 16)!, connectionTableSize: UInt32(words[2])!)
            case "timeout":
                timeouts = Timeouts(tcp: UInt32(words[1])!, tcpFin: UInt32(words[2])!, udp: UInt32(words[3])!)
            case "svc":
                let key: ServiceKey
                if let mark = kv["fwmark"] {
                    key = .fwmark(UInt32(mark)!, u("af", 2) == 10 ? .v6 : .v4)
                } else {
                    key = .inet(L4Protocol(rawValue: UInt16(u("proto", 6)))!, IPAddress(kv["addr"]!)!, UInt16(u("port")))
                }
                let service = VirtualService(key: key, scheduler: kv["sched"] ?? "wlc", flags: ServiceFlags(rawValue: UInt32(u("flags", 2))),
                                             timeout: UInt32(u("timeout")), netmask: kv["netmask"].map { _ in UInt32(u("netmask")) },
                                             persistenceEngine: kv["pe"])
                table.services.append(ServiceStatus(service: service, stats: stats(kv["stats"])))
            case "dest":
                let r = RealServer(address: IPAddress(kv["addr"]!)!, port: UInt16(u("port")),
                                   forwarding: ForwardingMethod(rawValue: UInt32(u("fwd", 3)))!, weight: Int32(u("weight", 1)),
                                   upperThreshold: UInt32(u("u")), lowerThreshold: UInt32(u("l")),
                                   tunnelType: TunnelType(rawValue: UInt8(u("tuntype")))!, tunnelPort: UInt16(u("tunport")),
                                   tunnelFlags: TunnelFlags(rawValue: UInt16(u("tunflags"))))
                let status = RealServerStatus(server: r, activeConnections: UInt32(u("active")), inactiveConnections: UInt32(u("inact")),
                                              persistentConnections: UInt32(u("persist")), stats: stats(kv["stats"]))
                table.services[table.services.count - 1].realServers.append(status)
            case "daemon":
                daemons.append(SyncDaemon(role: u("state", 1) == 1 ? .master : .backup, interface: kv["ifn"] ?? "eth0",
                                          syncID: UInt8(u("syncid")), maxLength: UInt16(u("maxlen")), group: kv["group"].flatMap(IPAddress.init),
                                          port: UInt16(u("port")), ttl: UInt8(u("ttl"))))
            default:
                break
            }
        }
    }

    private func stats(_ text: String?) -> Stats {
        var s = Stats()
        guard let text else { return s }
        var v = text.split(separator: ",").map { UInt64($0)! }
        while v.count < 10 { v.append(0) }
        (s.connections, s.packetsIn, s.packetsOut, s.bytesIn, s.bytesOut) = (v[0], v[1], v[2], v[3], v[4])
        (s.connectionsPerSecond, s.packetsInPerSecond, s.packetsOutPerSecond, s.bytesInPerSecond, s.bytesOutPerSecond) = (v[5], v[6], v[7], v[8], v[9])
        return s
    }
}
