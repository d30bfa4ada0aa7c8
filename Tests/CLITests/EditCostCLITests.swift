import Foundation
import Testing

/// `lvsh group NAME add|del ...` costs the same whatever the size of the groups: the batch does not read
/// the groups, and the nftables backend reads only what the edit can clash with. Counted with strace on
/// the lvsh process: netlink requests and the bytes both ways (no timing).
@Suite(.enabled(if: CLILab.available && CLILab.tool("strace") != nil, "needs root, ip, nft, strace and the lvsh binary"))
struct EditCostCLITests {
    struct Traffic: Equatable, CustomStringConvertible {
        var sends = 0, sent = 0, received = 0
        var description: String { "\(sends) sends, \(sent) bytes sent, \(received) bytes received" }
    }

    /// Runs lvsh under strace in the namespace and sums what its socket calls moved.
    static func traffic(_ ns: Netns, _ args: [String]) throws -> Traffic {
        let log = try ns.file("strace.log", "")
        let r = try ns.run(["strace", "-f", "-qq", "-s0", "-e", "trace=sendmsg,sendto,recvmsg,recvfrom", "-o", log, CLILab.lvsh] + args)
        #expect(r.status == 0, "\(args): \(r)")
        var t = Traffic()
        for line in try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n") {
            guard let eq = line.range(of: " = ", options: .backwards), let n = Int(line[eq.upperBound...]) else { continue }
            if line.contains("send") { t.sends += 1; t.sent += n } else if line.contains("recv") { t.received += n }
        }
        return t
    }

    /// One group of `addresses` x `ports` entries; returns the traffic of adding, then deleting, one
    /// entry, and of a batch file of two edits; `options` go before the words (e.g. --backend nft).
    static func editTraffic(addresses: Int, ports: Int, options given: [String]) throws -> [Traffic] {
        let ns = try Netns()
        // An archived change reads the whole state after it (the archive keeps whole configurations):
        // `set archive off` leaves the edit's own cost, which is what is measured here.
        let options = ["--config", try ns.file("lvsh.conf", "set archive off\n")] + given
        let vips = (0..<addresses).map { "10.\($0 / 250).\($0 % 250).1" }.joined(separator: ",")
        let r = try ns.lvsh("group", "big", "vip", vips, "tcp", (0..<ports).map { String(1000 + $0) }.joined(separator: ","))
        #expect(r.status == 0, "\(r)")
        let add = try traffic(ns, options + ["group", "big", "add", "vip", "10.250.0.1", "tcp", "80"])
        let del = try traffic(ns, options + ["-c", "group big del vip 10.250.0.1 tcp 80"])
        let file = try ns.file("edits.lvsh", "group big add vip 10.250.0.2 udp 5000-5009\ngroup big add vip 10.250.0.3 tcp 7\n")
        let batch = try traffic(ns, options + ["-f", file])
        let entries = try ns.lvsh("show", "groups", "--json").out.components(separatedBy: #""ports""#).count - 1
        #expect(entries == addresses * ports + 2)
        return [add, del, batch]
    }

    /// With --backend nft and with the backend chosen by lvsh (as users run it).
    @Test("adding and deleting entries moves the same bytes at 100 and at 10,000 entries",
          arguments: [["--backend", "nft"], []])
    func constant(_ options: [String]) throws {
        let small = try Self.editTraffic(addresses: 10, ports: 10, options: options)
        let large = try Self.editTraffic(addresses: 100, ports: 100, options: options)
        print("edits at 100 entries: \(small)\nat 10,000: \(large)")
        #expect(small == large)
        // What the kernel holds is not read: a dump of 10,000 elements alone is hundreds of KB.
        #expect(large.allSatisfy { $0.received < 16_000 }, "\(large)")
    }
}
