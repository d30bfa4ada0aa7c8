import Foundation
import Testing
@testable import Firewall
import LVSModel

/// Real packets through lvsh's rules: UDP over lo inside a fresh namespace, counted by a separate
/// witness table whose counter rules run after lvsh's chains (priority 0 > mangle) and match on the mark.
@Suite(.enabled(if: NFTLab.available, "needs root and nft"))
struct NFTPacketTests {
    /// Per hook: a chain before lvsh's (priority -200) that clears the mark and pre-marks port 7000 with
    /// 42, and a counting chain after it.
    static let witness = """
        table inet witness {
          chain out_before { type filter hook output priority -200; meta mark set 0; udp dport 7000 meta mark set 42; }
          chain out_count { type filter hook output priority 0;
            udp dport 5000 meta nfproto ipv4 meta mark 1000 counter comment "v4";
            udp dport 5000 meta nfproto ipv6 meta mark 1002 counter comment "v6";
            udp dport 6000 meta mark 1001 counter comment "any";
            udp dport 7000 meta mark 42 counter comment "kept";
            udp dport 7001 meta mark 0 counter comment "unmarked";
            udp dport { 5000, 6000, 7000, 7001 } counter comment "all";
          }
          chain pre_before { type filter hook prerouting priority -200; meta mark set 0; udp dport 7000 meta mark set 42; }
          chain pre_count { type filter hook prerouting priority 0;
            udp dport 5000 meta nfproto ipv4 meta mark 1000 counter comment "v4";
            udp dport 5000 meta nfproto ipv6 meta mark 1002 counter comment "v6";
            udp dport 6000 meta mark 1001 counter comment "any";
            udp dport 7000 meta mark 42 counter comment "kept";
            udp dport 7001 meta mark 0 counter comment "unmarked";
            udp dport { 5000, 6000, 7000, 7001 } counter comment "all";
          }
        }
        """

    /// Chain → comment → packets.
    func counters(_ ns: NFTTestNamespace) throws -> [String: [String: Int]] {
        var out: [String: [String: Int]] = [:]
        for o in try ns.nftJSON("list table inet witness") {
            guard let r = o["rule"] as? [String: Any], let chain = r["chain"] as? String,
                  let comment = r["comment"] as? String, let expr = r["expr"] as? [[String: Any]] else { continue }
            let packets = expr.compactMap { ($0["counter"] as? [String: Any])?["packets"] as? Int }.first ?? -1
            out[chain, default: [:]][comment] = packets
        }
        return out
    }

    @Test("packets get their group's mark in prerouting and output; a miss keeps the mark the packet had")
    func classification() throws {
        let ns = try NFTTestNamespace()
        try ns.sh("ip link set lo up")
        let nft = try NFTablesBackend(networkNamespace: ns.path)
        let e = { (a: String?, p: UInt16) in PortGroupEntry(address: a.map { IPAddress($0)! }, protocol: .udp, ports: p...p) }
        _ = try nft.update { _ in [
            .put(PortGroup(name: "four", mark: 1000, entries: [e("127.0.0.1", 5000)])),
            .put(PortGroup(name: "six", mark: 1002, entries: [e("::1", 5000)])),
            .put(PortGroup(name: "anywhere", mark: 1001, entries: [e(nil, 6000)])),
            // The same port over tcp: the protocol field must tell the two apart.
            .put(PortGroup(name: "tcp", mark: 1003, entries: [PortGroupEntry(address: nil, protocol: .tcp, ports: 5000...5000)])),
        ] }
        try ns.nft("-f - <<'EOF'\n\(Self.witness)\nEOF")
        let send = """
            import socket
            for family, host in ((socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::1")):
                s = socket.socket(family, socket.SOCK_DGRAM)
                for port in (5000, 6000, 7000, 7001):
                    s.sendto(b"x", (host, port))
            """
        try ns.sh("python3 - <<'EOF'\n\(send)\nEOF")
        // Port 5000 is marked per family, 6000 (any) for both, 7000 keeps 42 and 7001 stays unmarked:
        // lvsh's rule sets nothing when its lookup misses.
        let expected = ["v4": 1, "v6": 1, "any": 2, "kept": 2, "unmarked": 2, "all": 8]
        let seen = try counters(ns)
        #expect(seen["out_count"] == expected)
        #expect(seen["pre_count"] == expected)
    }

    /// Another program's marks, before lvsh's chains (priority -200: every packet 0x10007) and after
    /// them (priority -100: udp 7002 gets 77), and the counting chain after all.
    static let others = """
        table inet others {
          chain before { type filter hook output priority -200; meta mark set 0x10007; }
          chain after { type filter hook output priority -100; udp dport 7002 meta mark set 77; }
          chain count { type filter hook output priority 0;
            udp dport 5000 meta mark 1000 counter comment "single";
            udp dport 5150 meta mark 1000 counter comment "range";
            udp dport 6005 meta mark 1001 counter comment "any range";
            udp dport 5301 meta nfproto ipv6 meta mark 1002 counter comment "v6 range";
            udp dport 7000 meta mark 0x10007 counter comment "theirs before";
            udp dport 7002 meta mark 77 counter comment "theirs after";
            udp dport { 5000, 5150, 5301, 6005, 7000, 7002 } counter comment "all";
          }
        }
        """

    @Test("coexistence: lvsh sets the whole mark on its groups' packets (single ports, ranges, any) and leaves every other packet's mark alone")
    func coexistence() throws {
        let ns = try NFTTestNamespace()
        try ns.sh("ip link set lo up")
        let nft = try NFTablesBackend(networkNamespace: ns.path)
        let udp = { (a: String?, r: ClosedRange<UInt16>) in PortGroupEntry(address: a.map { IPAddress($0)! }, protocol: .udp, ports: r) }
        _ = try nft.update { _ in [
            .put(PortGroup(name: "web", mark: 1000, entries: [udp("127.0.0.1", 5000...5000), udp("127.0.0.1", 5100...5199)])),
            .put(PortGroup(name: "rtp", mark: 1001, entries: [udp(nil, 6000...6009)])),
            .put(PortGroup(name: "six", mark: 1002, entries: [udp("::1", 5300...5301)])),
        ] }
        try ns.nft("-f - <<'EOF'\n\(Self.others)\nEOF")
        let send = """
            import socket
            for family, host in ((socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::1")):
                s = socket.socket(family, socket.SOCK_DGRAM)
                for port in (5000, 5150, 5301, 6005, 7000, 7002):
                    s.sendto(b"x", (host, port))
            """
        try ns.sh("python3 - <<'EOF'\n\(send)\nEOF")
        var seen: [String: Int] = [:]
        for o in try ns.nftJSON("list table inet others") {
            guard let r = o["rule"] as? [String: Any], let comment = r["comment"] as? String,
                  let expr = r["expr"] as? [[String: Any]] else { continue }
            seen[comment] = expr.compactMap { ($0["counter"] as? [String: Any])?["packets"] as? Int }.first
        }
        // 5000 and 5150 over IPv4 only (the group's address), 6005 for both families, 5301 over IPv6;
        // 7000 keeps the other program's mark from before lvsh's chain, 7002 gets its mark from after.
        #expect(seen == ["single": 1, "range": 1, "any range": 2, "v6 range": 1, "theirs before": 2, "theirs after": 2, "all": 12])
    }
}
