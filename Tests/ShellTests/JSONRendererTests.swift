import Firewall
import IPVS
import LVSModel
@testable import Shell
import Testing
import TestSupport

/// The one-pass renderers (TextBuffer) against the renderers they replaced (RendererOracle.swift):
/// random models, seeded so that a failure replays, must come out byte for byte the same.
struct JSONRendererTests {
    /// Random models with the corners the renderers treat apart: both families, v4-mapped IPv6,
    /// fwmark and inet services, group names on marks (one or both families), tunnels, thresholds,
    /// scheduler flags, counters above 2^63, and text that JSON must escape.
    struct Models {
        var g: SeededGenerator

        init(seed: UInt64) { g = SeededGenerator(state: seed) }

        mutating func bool(_ percent: Int = 50) -> Bool { g.below(100) < percent }
        mutating func pick<T>(_ items: [T]) -> T { items[g.below(items.count)] }
        mutating func u64() -> UInt64 {
            switch g.below(4) {
            case 0: 0
            case 1: UInt64(g.below(10))
            case 2: UInt64(g.below(1_000_000_000))
            default: g.next()
            }
        }
        mutating func u32() -> UInt32 { UInt32(truncatingIfNeeded: u64()) }
        mutating func u16() -> UInt16 { UInt16(truncatingIfNeeded: u64()) }

        /// Words, some of them with quotes, backslashes, control characters and non-ASCII text.
        mutating func text() -> String {
            let pieces = ["web", "mail", "a-b_c", "\"", "\\", "\n", "\r", "\t", "\u{0}", "\u{1}", "\u{1f}", "\u{7f}",
                          "é", "日本", "🙂", "\r\n", " ", "x/y", "\u{2028}"]
            return (0..<(1 + g.below(4))).map { _ in pick(pieces) }.joined()
        }

        mutating func address(_ family: IPAddress.Family) -> IPAddress {
            if family == .v4 { return IPAddress(v4: pick([0, 0x7f00_0001, 0xc0a8_3d81, 0xffff_ffff, UInt32(truncatingIfNeeded: g.next())])) }
            switch g.below(5) {
            case 0: return IPAddress(v6High: 0, low: 0xffff_0000_0000 | UInt64(g.below(1 << 30)))   // ::ffff:a.b.c.d
            case 1: return IPAddress(v6High: 0, low: UInt64(g.below(1 << 30)))                        // ::a.b.c.d
            case 2: return IPAddress(v6High: 0x2001_0db8_0000_0000, low: UInt64(g.below(3)))
            case 3: return IPAddress(v6High: 0xfe80_0000_0000_0000 | UInt64(g.below(1 << 16)) << 16, low: 0x0001_0000_0000_0001)
            default: return IPAddress(v6High: g.next(), low: g.next())
            }
        }

        mutating func family() -> IPAddress.Family { bool(70) ? .v4 : .v6 }

        mutating func stats() -> Stats {
            guard bool(70) else { return Stats() }
            var s = Stats()
            s.connections = u64(); s.packetsIn = u64(); s.packetsOut = u64(); s.bytesIn = u64(); s.bytesOut = u64()
            s.connectionsPerSecond = u64(); s.packetsInPerSecond = u64(); s.packetsOutPerSecond = u64()
            s.bytesInPerSecond = u64(); s.bytesOutPerSecond = u64()
            return s
        }

        mutating func real(_ family: IPAddress.Family) -> RealServerStatus {
            let f = bool(90) ? family : (family == .v4 ? .v6 : .v4)
            let server = RealServer(address: address(f), port: bool() ? 80 : u16(), forwarding: pick(ForwardingMethod.allCases),
                                    weight: bool(80) ? Int32(g.below(5)) : Int32(truncatingIfNeeded: g.next()),
                                    upperThreshold: bool() ? 0 : u32(), lowerThreshold: bool() ? 0 : u32(),
                                    tunnelType: pick(TunnelType.allCases), tunnelPort: bool() ? 0 : u16(),
                                    tunnelFlags: TunnelFlags(rawValue: UInt16(g.below(4))))
            return RealServerStatus(server: server, activeConnections: u32(), inactiveConnections: u32(),
                                    persistentConnections: u32(), stats: stats())
        }

        mutating func service(marks: [UInt32]) -> ServiceStatus {
            let f = family()
            let key: ServiceKey = bool(60)
                ? .fwmark(bool(80) ? pick(marks) : u32(), f)
                : .inet(pick(L4Protocol.allCases), address(f), bool(80) ? pick([0, 80, 443]) : u16())
            var flags = ServiceFlags(rawValue: UInt32(g.below(64)))
            if bool(20) { flags = [] }
            let v = VirtualService(key: key, scheduler: bool(80) ? pick(Schedulers.known + ["one"]) : text(), flags: flags,
                                   timeout: u32(), netmask: bool(50) ? (f == .v4 ? 0xffff_ffff : 128) : u32(),
                                   persistenceEngine: bool(70) ? nil : (bool() ? "sip" : text()))
            let reals = (0..<g.below(6)).map { _ in real(f) }
            return ServiceStatus(service: v, stats: stats(), realServers: reals)
        }

        mutating func group(name: String, mark: UInt32) -> PortGroup {
            let entries = (0..<(1 + g.below(4))).map { _ -> PortGroupEntry in
                let low = UInt16(g.below(2000))
                return PortGroupEntry(address: bool(15) ? nil : address(family()), protocol: pick(L4Protocol.allCases),
                                      ports: low...(low + UInt16(g.below(3))))
            }
            return PortGroup(name: name, mark: mark, entries: entries)
        }

        mutating func model() -> (table: IPVSTable, groups: [PortGroup]) {
            let marks = (0..<(1 + g.below(8))).map { _ in UInt32(1000 + g.below(12)) }
            let groups = (0..<g.below(6)).map { i in group(name: bool(80) ? "g\(i)" : text(), mark: bool(80) ? pick(marks) : u32()) }
            let table = IPVSTable(services: (0..<g.below(14)).map { _ in service(marks: marks) })
            return (table, groups.sorted { $0.name < $1.name })
        }

        mutating func daemons() -> [SyncDaemon] {
            (0..<g.below(3)).map { _ in
                SyncDaemon(role: pick(SyncRole.allCases), interface: bool(80) ? pick(["eth0", "bond0.12"]) : text(),
                           syncID: UInt8(g.below(256)), maxLength: bool() ? 0 : u16(), group: bool() ? nil : address(family()),
                           port: bool() ? 0 : u16(), ttl: UInt8(g.below(256)))
            }
        }

        mutating func connections() -> [Connection] {
            (0..<g.below(6)).map { _ in
                let f = family()
                return Connection(protocolName: pick(["TCP", "UDP", "SCTP", "Tcp", text()]), client: address(f), clientPort: u16(),
                                  virtual: address(f), virtualPort: u16(), destination: address(f), destinationPort: u16(),
                                  state: bool(80) ? pick(["ESTABLISHED", "FIN_WAIT", "NONE"]) : text(), expires: u32())
            }
        }

        mutating func sysctls() -> [(String, String)] {
            (0..<g.below(4)).map { _ in (pick(["net.ipv4.vs.sync_threshold", "net.ipv4.ip_forward"]), pick(["1", "3 50", "3\t50", " 7 ", ""])) }
        }
    }

    static let seeds: [UInt64] = Array(1...300)

    @Test("show services --json: the streaming writer matches the JSON tree byte for byte", arguments: seeds)
    func services(seed: UInt64) {
        var m = Models(seed: seed)
        let (table, groups) = m.model()
        #expect(ServicesJSON.text(table, groups: groups) == OldModelJSON.services(table, groups: groups).text + "\n")
    }

    @Test("show groups, sync and connections --json match the JSON tree byte for byte", arguments: seeds)
    func otherDocuments(seed: UInt64) {
        var m = Models(seed: seed)
        let (_, groups) = m.model()
        #expect(GroupsJSON.text(groups) == OldModelJSON.groups(groups).text + "\n")
        let daemons = m.daemons()
        #expect(SyncJSON.text(daemons) == OldJSON.object([("daemons", .array(daemons.map(OldModelJSON.sync)))]).text + "\n")
        let connections = m.connections()
        #expect(ConnectionJSON.text(connections)
            == OldJSON.object([("connections", .array(connections.map(OldModelJSON.connection)))]).text + "\n")
    }

    @Test("show running-config: the one-pass text matches the concatenated one byte for byte", arguments: seeds)
    func runningConfig(seed: UInt64) {
        var m = Models(seed: seed)
        let (table, groups) = m.model()
        let daemons = m.daemons(), sysctls = m.sysctls()
        let timeouts: Timeouts? = m.bool(20) ? nil : m.bool() ? .kernelDefault : Timeouts(tcp: m.u32(), tcpFin: m.u32(), udp: m.u32())
        let defaults = m.bool()
        let new = RunningConfig.render(table: table, groups: groups, timeouts: timeouts, daemons: daemons, sysctls: sysctls,
                                       defaultTimeouts: defaults)
        let old = OldRunningConfig.render(table: table, groups: groups, timeouts: timeouts, daemons: daemons, sysctls: sysctls,
                                          defaultTimeouts: defaults)
        #expect(Array(new.utf8) == Array(old.utf8))
    }

    @Test("JSON strings are escaped as before, and the JSON enum prints as before", arguments: seeds)
    func escaping(seed: UInt64) {
        var m = Models(seed: seed)
        var scalars = String.UnicodeScalarView()
        for _ in 0..<40 {
            let v = m.bool(60) ? UInt32(m.g.below(0x80)) : UInt32(m.g.below(0x11_0000))
            if let u = Unicode.Scalar(v) { scalars.append(u) }
        }
        let s = String(scalars) + m.text()
        var quoted = ""
        OldJSON.quote(s, into: &quoted)
        #expect(TextBuffer.text { $0.jsonString(s) } == quoted)
        let n = Int64(bitPattern: m.u64())
        let value = JSON.object([("s", .string(s)), ("n", .number(n)), ("a", .array([.null, .bool(true), .bool(false)])), ("o", .object([]))])
        let old = OldJSON.object([("s", .string(s)), ("n", .number(n)), ("a", .array([.null, .bool(true), .bool(false)])), ("o", .object([]))])
        #expect(value.text == old.text)
    }

    @Test("numbers are written as String(n) writes them")
    func numbers() {
        var m = Models(seed: 42)
        let edges: [Int64] = [0, 1, -1, 9, 10, -10, 99, 100, Int64.max, Int64.min, Int64.max - 1, Int64.min + 1]
        for n in edges + (0..<2000).map({ _ in Int64(bitPattern: m.u64()) }) {
            #expect(TextBuffer.text { $0.decimal(n) } == String(n))
            #expect(TextBuffer.text { $0.decimal(n.magnitude) } == String(n.magnitude))
        }
    }

    @Test("show running-config and show services json through a session print what the former renderers print")
    func throughSession() {
        var m = Models(seed: 7)
        let ipvs = FakeIPVS(), marks = FakeMarks()
        var model = m.model()
        // FakeIPVS holds one service per key, as the kernel does.
        var seen = Set<ServiceKey>()
        model.table.services = model.table.services.filter { seen.insert($0.service.key).inserted }
        ipvs.services = model.table.services
        #expect(ipvs.services.count > 3 && ipvs.services.contains { !$0.realServers.isEmpty } && !model.groups.isEmpty)
        ipvs.timeoutValues = Timeouts(tcp: 901, tcpFin: 121, udp: 301)
        marks.stored = model.groups
        var out = ""
        let session = Session(control: ipvs, backend: marks, out: { out += $0 }, err: { _ in },
                              readSysctl: { $0 == "net.ipv4.ip_forward" ? "1" : $0 == "net.ipv4.vs.sync_threshold" ? "3 50" : nil },
                              runtime: { () throws(LVSError) in nil })
        #expect(session.runCommandLine(["show", "services", "json"]) == 0)
        let kernelTable = (try? ipvs.table(.complete)) ?? IPVSTable()
        #expect(out == OldModelJSON.services(kernelTable, groups: model.groups).text + "\n")
        out = ""
        #expect(session.runCommandLine(["show", "running-config"]) == 0)
        #expect(out.hasPrefix("# lvsh running configuration\n"))
        let sysctls = [("net.ipv4.vs.sync_threshold", "3 50")] + (SysctlAdvice.needs(of: kernelTable).contains { $0.name == "net.ipv4.ip_forward" }
            ? [("net.ipv4.ip_forward", "1")] : [])
        let old = OldRunningConfig.render(table: kernelTable, groups: model.groups, timeouts: ipvs.timeoutValues, daemons: [],
                                          sysctls: sysctls)
        #expect(out.split(separator: "\n").filter { !$0.hasPrefix("sysctl ") } == old.split(separator: "\n").filter { !$0.hasPrefix("sysctl ") })
    }
}
