import LVSModel
import Engine

/// `service SERVICE [options]`, `no service SERVICE [option]`: IPVS virtual services.
/// Repeating `service` with new options updates it in place; options not given keep their value.
enum ServiceCommands {
    static let flagWords: [(word: String, flag: ServiceFlags, help: String)] = [
        ("one-packet", .onePacket, "schedule every UDP datagram on its own (ipvsadm -o)"),
        ("sh-fallback", .schedulerFlag1, "sh: move to another server when the chosen one is unavailable"),
        ("sh-port", .schedulerFlag2, "sh: hash the source port too"),
        ("mh-fallback", .schedulerFlag1, "mh: move to another server when the chosen one is unavailable"),
        ("mh-port", .schedulerFlag2, "mh: hash the source port too"),
    ]

    static let options: Syntax = .anyOrder([
        .option("scheduler", .scheduler, help: "rr wrr lc wlc lblc lblcr dh sh sed nq fo ovf mh (default wlc)"),
        .sequence([.word("persistent", help: "one client keeps its real server across connections and ports"),
                   .optional(.value("persistent", .number(1...2_678_400), help: "seconds (default 300)"))]),
        .option("netmask", .text, help: "clients in one netmask (IPv4: 255.255.255.0 or /24; IPv6: prefix length) share a server"),
        .option("pe", .text, help: "persistence engine, e.g. sip"),
    ] + flagWords.map { Syntax.flag($0.word, help: $0.help) } + HealthCommands.serviceOptions)

    static let commands: [Command] = [
        Command(.sequence([.word("service", help: "an IPVS virtual service"), ServiceReference.syntax, options]),
                summary: "create a virtual service, or change the options of one",
                examples: ["service web scheduler wlc persistent 300 netmask 255.255.255.0",
                           "service tcp 192.168.61.129:80 scheduler rr"],
                handler: .change(put)),
        Command(.sequence([.word("no", help: "remove what the command after it creates"),
                           .word("service", help: "an IPVS virtual service"), ServiceReference.syntax,
                           .optional(.choice([.oneOf("option", [("persistent", "turn persistence off"), ("pe", "drop the persistence engine")]
                                                                   + flagWords.map { ($0.word, "turn \($0.word) off") })]
                                             + HealthCommands.noServiceOptions))]),
                summary: "remove a virtual service (with its real servers), or turn one of its options off",
                examples: ["no service web", "no service tcp 192.168.61.129:80 persistent", "no service web check web-http"],
                handler: .change(remove)),
    ]

    @Sendable static func put(_ b: Bindings, _ c: inout Candidate) throws(LVSError) {
        let keys = try ServiceReference.keys(b, in: c)
        // The daemon's part first: without a daemon the whole line is refused before anything changes.
        try HealthCommands.putService(b, keys, &c)
        for key in keys {
            let existing = c.service(key)?.service
            var s = existing ?? VirtualService(key: key)
            if let sched = b.first("scheduler") { s.scheduler = sched }
            if b.has("persistent") {
                s.flags.insert(.persistent)
                if let t = b.number("persistent").map(UInt32.init) {
                    s.timeout = t
                } else if existing?.isPersistent != true {
                    s.timeout = 300
                }
            }
            if let mask = b.first("netmask") { s.netmask = try netmask(mask, family: key.family) }
            if let pe = b.first("pe") { s.persistenceEngine = pe }
            for f in flagWords where b.has(f.word) {
                guard f.flag == .onePacket || f.word.hasPrefix(s.scheduler + "-") else {
                    throw .badInput("\(f.word) is a flag of the \(f.word.prefix(2)) scheduler, but the service uses \(s.scheduler); add `scheduler \(f.word.prefix(2))` or drop \(f.word)")
                }
                s.flags.insert(f.flag)
            }
            if s.flags.contains(.onePacket), let p = key.l4Protocol, p != .udp {
                throw .badInput("one-packet scheduling works for UDP and fwmark services only, not \(p)")
            }
            if case .inet(_, _, 0) = key, !s.isPersistent {
                throw .badInput("port 0 means every port, which IPVS allows only for persistent services; add `persistent`")
            }
            // Summaries are built only when changes are recorded (not for apply's 50,000-line files).
            let name = c.recordsChanges ? ServiceReference.describe(key, in: c) : ""
            if let existing {
                if existing != s { try c.apply(.editService(s), "change service \(name): \(describe(s))") }
            } else {
                try c.apply(.addService(s), "add service \(name): \(describe(s))")
            }
        }
    }

    @Sendable static func remove(_ b: Bindings, _ c: inout Candidate) throws(LVSError) {
        let keys = try ServiceReference.keys(b, in: c)
        for key in keys where c.service(key) == nil {
            throw .badInput("there is no service \(ServiceReference.describe(key, in: c)) (`show services` lists them)")
        }
        if try HealthCommands.removeFromService(b, keys, &c) { return }
        for key in keys {
            let name = ServiceReference.describe(key, in: c)
            var s = c.service(key)!.service
            guard let option = b.first("option") else {
                try c.apply(.deleteService(key), "remove service \(name) and its real servers")
                continue
            }
            switch option {
            case "persistent": s.flags.remove(.persistent); s.timeout = 0
            case "pe": s.persistenceEngine = nil
            default: if let f = flagWords.first(where: { $0.word == option }) { s.flags.remove(f.flag) }
            }
            try c.apply(.editService(s), "change service \(name): no \(option)")
        }
    }

    /// IPv4: a dotted mask or /LEN; IPv6: a prefix length (with or without /).
    static func netmask(_ text: String, family: IPAddress.Family) throws(LVSError) -> UInt32 {
        let bare = text.hasPrefix("/") ? String(text.dropFirst()) : text
        if family == .v6 {
            guard let len = UInt32(bare), (1...128).contains(len) else {
                throw .badInput("netmask '\(Shown.word(text))' is not an IPv6 prefix length from 1 to 128")
            }
            return len
        }
        if let len = UInt32(bare), len <= 32 { return len == 0 ? 0 : ~UInt32(0) << (32 - len) }
        guard let a = IPAddress(bare), a.family == .v4, IPAddress.prefixLength(ofMask: a.v4Value) != nil else {
            throw .badInput("netmask '\(Shown.word(text))' is not an IPv4 netmask (255.255.255.0) or prefix length (/24)")
        }
        return a.v4Value
    }

    /// "scheduler rr persistent 300 netmask 255.255.255.0".
    static func describe(_ s: VirtualService) -> String {
        TextBuffer.text { describe(s, into: &$0) }
    }

    /// `describe(s)`, appended to `o`.
    static func describe(_ s: VirtualService, into o: inout TextBuffer) {
        o.append("scheduler ")
        o.append(s.scheduler)
        if s.isPersistent {
            o.append(" persistent ")
            o.decimal(s.timeout)
            if s.key.family == .v4 && s.netmask != 0xffff_ffff {
                o.append(" netmask ")
                o.dottedQuad(s.netmask)
            }
            if s.key.family == .v6 && s.netmask != 128 {
                o.append(" netmask ")
                o.decimal(s.netmask)
            }
        }
        if let pe = s.persistenceEngine {
            o.append(" pe ")
            o.append(pe)
        }
        for f in flagWords where s.flags.contains(f.flag) && f.word.hasPrefix(s.scheduler + "-") {
            o.byte(UInt8(ascii: " "))
            o.append(f.word)
        }
        if s.flags.contains(.onePacket) { o.append(" one-packet") }
    }
}
