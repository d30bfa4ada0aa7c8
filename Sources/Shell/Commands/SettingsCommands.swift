import LVSModel
import Engine

/// Timeouts, sync daemons, counters and flushing: IPVS settings that are not services.
enum SettingsCommands {
    static let commands: [Command] = [
        Command(.sequence([.word("timeout", help: "IPVS connection timeouts, in seconds"),
                           .anyOrder([.option("tcp", .number(1...UInt64(Int32.max)), help: "established TCP connections (kernel default 900)"),
                                      .option("tcpfin", .number(1...UInt64(Int32.max)), help: "TCP after FIN (default 120)"),
                                      .option("udp", .number(1...UInt64(Int32.max)), help: "UDP (default 300)")])]),
                summary: "set IPVS connection timeouts (those not given stay as they are)",
                examples: ["timeout tcp 900 tcpfin 120 udp 300"], handler: .change(timeout)),
        Command(.sequence([.word("no", help: "remove what the command after it creates"),
                           .word("timeout", help: "IPVS connection timeouts")]),
                summary: "put the IPVS timeouts back to the kernel's defaults (900 120 300)",
                examples: ["no timeout"], handler: .change(resetTimeouts)),
        Command(.sequence([.word("sync", help: "a connection-synchronisation daemon"),
                           .optional(.word("start", help: "start it (the default)")),
                           .oneOf("role", [("master", "send this director's connections"), ("backup", "receive a master's connections")]),
                           .anyOrder([
                               .option("interface", .interface, help: "the interface the daemon uses"),
                               .option("id", .number(0...255), help: "the sync id (default 0: any)"),
                               .option("maxlen", .number(1...65507), help: "UDP payload size (default from the MTU)"),
                               .option("group", .address, help: "multicast group (default 224.0.0.81)"),
                               .option("port", .number(1...65535), help: "UDP port (default 8848)"),
                               .option("ttl", .number(1...255), help: "multicast TTL (default 1)"),
                           ])]),
                summary: "start a connection-sync daemon (again, to change its settings)",
                examples: ["sync start master interface eth0 id 1"], handler: .change(startSync)),
        Command(.sequence([.word("no", help: "remove what the command after it creates"),
                           .word("sync", help: "a connection-synchronisation daemon"),
                           .oneOf("role", [("master", "the master daemon"), ("backup", "the backup daemon")])]),
                summary: "stop a connection-sync daemon", examples: ["no sync backup"], handler: .change(stopSync)),
        Command(.sequence([.word("sync", help: "a connection-synchronisation daemon"), .word("stop", help: "stop it"),
                           .oneOf("role", [("master", "the master daemon"), ("backup", "the backup daemon")])]),
                summary: "stop a connection-sync daemon", examples: ["sync stop master"], handler: .change(stopSync)),
        Command(.sequence([.word("zero", help: "reset counters"), .optional(ServiceReference.syntax)]),
                summary: "zero the counters of all services, or of one", examples: ["zero", "zero web"],
                handler: .change(zero)),
        Command(.sequence([.word("flush", help: "remove everything of a kind"),
                           .word("services", help: "every IPVS service and real server (ipvsadm -C)")]),
                summary: "remove every IPVS service", examples: ["flush services"], handler: .change(flush)),
    ]

    @Sendable static func timeout(_ b: Bindings, _ c: inout Candidate) throws(LVSError) {
        guard b.has("tcp") || b.has("tcpfin") || b.has("udp") else {
            throw .badInput("give at least one of tcp, tcpfin and udp, e.g. `timeout tcp 900`")
        }
        // 0 tells the kernel to leave a timeout unchanged.
        let t = Timeouts(tcp: b.number("tcp").map(UInt32.init) ?? 0, tcpFin: b.number("tcpfin").map(UInt32.init) ?? 0,
                         udp: b.number("udp").map(UInt32.init) ?? 0)
        try c.apply(.setTimeouts(t), "set timeouts" + (t.tcp != 0 ? " tcp \(t.tcp)" : "") + (t.tcpFin != 0 ? " tcpfin \(t.tcpFin)" : "")
                    + (t.udp != 0 ? " udp \(t.udp)" : ""))
    }

    @Sendable static func resetTimeouts(_ b: Bindings, _ c: inout Candidate) throws(LVSError) {
        let d = Timeouts.kernelDefault
        try c.apply(.setTimeouts(d), "set timeouts to the kernel's defaults tcp \(d.tcp) tcpfin \(d.tcpFin) udp \(d.udp)")
    }

    @Sendable static func startSync(_ b: Bindings, _ c: inout Candidate) throws(LVSError) {
        let role: SyncRole = b.first("role") == "backup" ? .backup : .master
        guard let interface = b.first("interface") else {
            throw .badInput("a sync daemon needs `interface NAME`: the interface it sends or listens on")
        }
        var d = SyncDaemon(role: role, interface: interface)
        if let id = b.number("id") { d.syncID = UInt8(id) }
        if let n = b.number("maxlen") { d.maxLength = UInt16(n) }
        if let g = b.address("group") { d.group = g }
        if let p = b.number("port") { d.port = UInt16(p) }
        if let t = b.number("ttl") { d.ttl = UInt8(t) }
        if c.daemons.contains(where: { $0.role == role }) {
            try c.apply(.stopDaemon(role), "stop the \(role.name) sync daemon, to restart it with new settings")
        }
        try c.apply(.startDaemon(d), "start \(command(for: d))")
    }

    @Sendable static func stopSync(_ b: Bindings, _ c: inout Candidate) throws(LVSError) {
        let role: SyncRole = b.first("role") == "backup" ? .backup : .master
        guard c.daemons.contains(where: { $0.role == role }) else {
            throw .badInput("no \(role.name) sync daemon is running (`show sync` lists them)")
        }
        try c.apply(.stopDaemon(role), "stop the \(role.name) sync daemon")
    }

    @Sendable static func zero(_ b: Bindings, _ c: inout Candidate) throws(LVSError) {
        if b.has("proto") || b.has("fwmark") || b.has("group") {
            for key in try ServiceReference.keys(b, in: c) {
                let name = ServiceReference.describe(key, in: c)
                try c.apply(.zero(key), "zero the counters of \(name)")
            }
        } else {
            try c.apply(.zero(nil), "zero all counters")
        }
    }

    @Sendable static func flush(_ b: Bindings, _ c: inout Candidate) throws(LVSError) {
        let count = c.table.services.count
        try c.apply(.flush, "remove every IPVS service (\(count) now)")
    }

    /// A daemon as the command that starts it.
    static func command(for d: SyncDaemon) -> String {
        var out = "sync \(d.role.name) interface \(d.interface) id \(d.syncID)"
        if d.maxLength != 0 { out += " maxlen \(d.maxLength)" }
        if let g = d.group { out += " group \(g)" }
        if d.port != 0 { out += " port \(d.port)" }
        if d.ttl != 0 { out += " ttl \(d.ttl)" }
        return out
    }
}
