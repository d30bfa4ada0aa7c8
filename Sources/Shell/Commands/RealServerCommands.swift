import LVSModel
import Engine

/// `real SERVICE ADDRESS[:PORT] [options]`, `no real SERVICE ADDRESS[:PORT]`: IPVS destinations.
/// Repeating `real` updates the real server in place; options not given keep their value.
enum RealServerCommands {
    static let methods: [(word: String, method: ForwardingMethod, help: String)] = [
        ("nat", .masquerade, "NAT (masquerading): the only method that can change the port"),
        ("dr", .route, "direct routing: the real server answers clients itself (default)"),
        ("tun", .tunnel, "tunnelling (IPIP, GUE or GRE)"),
    ]

    static let options: Syntax = .anyOrder([
        .oneOf("method", methods.map { ($0.word, $0.help) }),
        .option("weight", .number(0...65535), help: "relative share of new connections; 0 stops new ones (default 1)"),
        .option("upper", .number(0...UInt64(UInt32.max)), help: "upper connection threshold; 0 for none"),
        .option("lower", .number(0...UInt64(UInt32.max)), help: "lower connection threshold; 0 for none"),
        .sequence([.word("tun-type", help: "tunnel encapsulation"),
                   .oneOf("tun-type", [("ipip", "IP in IP (default)"), ("gue", "generic UDP encapsulation"), ("gre", "GRE")])]),
        .option("tun-port", .number(1...65535), help: "the GUE destination port"),
        .oneOf("tun-csum", [("tun-nocsum", "no tunnel checksum"), ("tun-csum", "tunnel checksum"),
                            ("tun-remcsum", "remote checksum offload")]),
    ] + HealthCommands.realOptions)

    static let commands: [Command] = [
        Command(.sequence([.word("real", help: "a real server of a virtual service"), ServiceReference.syntax,
                           .value("real", .realServer, help: "the real server (the port defaults to the service's)"),
                           options]),
                summary: "add a real server to a service, or change one",
                examples: ["real web 192.168.147.129 nat weight 3",
                           "real tcp 192.168.61.129:80 192.168.147.130:8080 nat"],
                handler: .change(put)),
        Command(.sequence([.word("no", help: "remove what the command after it creates"),
                           .word("real", help: "a real server"), ServiceReference.syntax,
                           .value("real", .realServer, help: "the real server"),
                           .optional(.option("check", .checkName, help: "stop running this check of its own"))]),
                summary: "remove a real server from a service, or one check of its own",
                examples: ["no real web 192.168.147.129", "no real web 192.168.147.129 check web-http"],
                handler: .change(remove)),
    ]

    static func target(_ b: Bindings, _ c: Candidate) throws(LVSError) -> (ServiceKey, IPAddress, UInt16) {
        let (address, port) = b.endpoint("real")!
        let keys = try ServiceReference.keys(b, in: c, family: b.has("group") ? address.family : nil)
        let key = keys[0]
        return (key, address, port ?? key.port)
    }

    @Sendable static func put(_ b: Bindings, _ c: inout Candidate) throws(LVSError) {
        let (key, address, port) = try target(b, c)
        // Names for messages and summaries, built only when one is shown (files run to 50,000 lines).
        func name() -> String { ServiceReference.describe(key, in: c) }
        guard let service = c.service(key) else {
            throw .badInput("there is no service \(name()); create it first with `service ...`")
        }
        let existing = service.realServers.first { $0.server.identity == RealServerKey(address: address, port: port) }?.server
        if HealthCommands.realHasHealthOptions(b) {
            guard existing != nil || b.has("method") || b.has("weight") else {
                throw .badInput("there is no real server \(address.family == .v6 ? "[\(address)]" : "\(address)"):\(port) in \(name()); add it first (`real ... ADDRESS weight N`)")
            }
            try HealthCommands.putReal(b, RealReference(service: key, real: RealServerKey(address: address, port: port)), &c)
        }
        var r = existing ?? RealServer(address: address, port: port)
        if let m = b.first("method"), let method = methods.first(where: { $0.word == m })?.method { r.forwarding = method }
        // The grammar's ranges make these conversions exact.
        if let w = b.number("weight") { r.weight = Int32(w) }
        if let u = b.number("upper") { r.upperThreshold = UInt32(u) }
        if let l = b.number("lower") { r.lowerThreshold = UInt32(l) }
        if let t = b.first("tun-type").flatMap(TunnelType.init(name:)) { r.tunnelType = t }
        if let p = b.number("tun-port") { r.tunnelPort = UInt16(p) }
        switch b.first("tun-csum") {
        case "tun-nocsum": r.tunnelFlags = []
        case "tun-csum": r.tunnelFlags = .checksum
        case "tun-remcsum": r.tunnelFlags = .remoteChecksum
        default: break
        }
        if !r.forwarding.allowsPortMapping && !key.isFirewallMark && port != key.port {
            throw .badInput("\(address):\(port): \(r.forwarding == .route ? "direct routing" : "tunnelling") cannot change the port (the real server receives the packet for port \(key.port) unchanged); use nat, or give port \(key.port)")
        }
        if r.lowerThreshold > r.upperThreshold {
            throw .badInput("the lower threshold (\(r.lowerThreshold)) must not exceed the upper one (\(r.upperThreshold)); give `upper` too")
        }
        if r.forwarding == .tunnel && r.tunnelType == .gue && r.tunnelPort == 0 {
            throw .badInput("GUE tunnels need the destination port: add `tun-port PORT`")
        }
        if r.forwarding != .tunnel && (b.has("tun-type") || b.has("tun-port") || b.has("tun-csum")) {
            throw .badInput("tunnel options need the tun method; add `tun`")
        }
        func rname() -> String { address.family == .v6 ? "[\(address)]:\(port)" : "\(address):\(port)" }
        if let existing {
            if existing != r {
                let summary = "change real server \(rname()) of \(name()): \(describe(r))"
                try c.apply(.editRealServer(key, r), summary)
            }
        } else {
            let summary = c.recordsChanges ? "add real server \(rname()) to \(name()): \(describe(r))" : ""
            try c.apply(.addRealServer(key, r), summary)
        }
        if r.forwarding == .masquerade { c.ensureForwarding(address.family) }
    }

    @Sendable static func remove(_ b: Bindings, _ c: inout Candidate) throws(LVSError) {
        let (key, address, port) = try target(b, c)
        let name = ServiceReference.describe(key, in: c)
        if let check = b.first("check") {
            return try HealthCommands.removeFromReal(check, RealReference(service: key, real: RealServerKey(address: address, port: port)), &c)
        }
        try c.apply(.deleteRealServer(key, RealServerKey(address: address, port: port)),
                    "remove real server \(address.family == .v6 ? "[\(address)]" : "\(address)"):\(port) from \(name)")
    }

    /// "nat weight 3 upper 100".
    static func describe(_ r: RealServer) -> String {
        TextBuffer.text { describe(r, into: &$0) }
    }

    /// `describe(r)`, appended to `o`: `show running-config` writes one per real server.
    static func describe(_ r: RealServer, into o: inout TextBuffer) {
        o.append(methodWord(r.forwarding))
        o.append(" weight ")
        o.decimal(r.weight)
        if r.upperThreshold != 0 {
            o.append(" upper ")
            o.decimal(r.upperThreshold)
        }
        if r.lowerThreshold != 0 {
            o.append(" lower ")
            o.decimal(r.lowerThreshold)
        }
        if r.forwarding == .tunnel {
            if r.tunnelType != .ipip {
                o.append(" tun-type ")
                o.append(r.tunnelType.name)
            }
            if r.tunnelPort != 0 {
                o.append(" tun-port ")
                o.decimal(r.tunnelPort)
            }
            if r.tunnelFlags.contains(.remoteChecksum) { o.append(" tun-remcsum") } else if r.tunnelFlags.contains(.checksum) { o.append(" tun-csum") }
        }
    }

    /// The word of the forwarding method in commands and JSON: nat, dr, tun.
    static func methodWord(_ m: ForwardingMethod) -> String {
        methods.first { $0.method == m }?.word ?? m.listingName.lowercased()
    }
}
