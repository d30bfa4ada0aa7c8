import Testing
import LVSModel
@testable import Shell
import IPVSAdm

/// Every listing format, byte for byte against what the real ipvsadm 1.31 printed
/// from the same state (IPVSAdmListingGoldens.swift): IPv6, fwmark, persistence with
/// netmasks, tunnels, thresholds, 64-bit counters scaled and --exact, sorting.
@Suite struct IPVSAdmListingGoldenTests {
    static func run(_ args: [String], _ fake: FakeIPVS) -> (code: Int32, out: String, err: String) {
        var out = "", err = ""
        let code = runIPVSAdm(args, control: fake, stdin: { "" }, out: { out += $0 }, err: { err += $0 },
                              readConnections: { () throws(LVSError) in try ConnectionTable.parse(referenceConnections.joined(separator: "\n")) })
        return (code, out, err)
    }

    @Test(arguments: ipvsadmListingGoldens.indices)
    func rendersLikeIPVSAdm(_ index: Int) {
        let golden = ipvsadmListingGoldens[index]
        let result = Self.run(golden.args, FakeIPVS(ReferenceState(referenceState)))
        #expect(result.code == 0)
        #expect(result.err == "")
        let lines = result.out.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(lines == golden.output + [""], "ipvsadm \(golden.args.joined(separator: " "))")
    }

    @Test func savedRulesRestoreToTheSameTable() {
        let source = FakeIPVS(ReferenceState(referenceState))
        // Drop what the kernel holds but ipvsadm's -S output cannot bring back: bypass
        // forwarding ("(null)"), marks above 2^31 (printed negative), one-packet scheduling
        // on TCP/SCTP, scheduler flags without a name ("-b "), IPv4-mapped real servers.
        source.services.removeAll { s in
            if case .fwmark(let m, _) = s.service.key, m > UInt32(Int32.max) { return true }
            if s.service.flags.contains(.onePacket), let p = s.service.key.l4Protocol, p != .udp { return true }
            return s.service.scheduler == "sh" && s.service.flags.contains(.schedulerFlag3)
        }
        for i in source.services.indices {
            source.services[i].realServers.removeAll { $0.server.forwarding == .bypass || $0.server.address == IPAddress("::ffff:10.0.0.5") }
        }
        let saved = source.saved
        let target = FakeIPVS()
        var err = ""
        let code = runIPVSAdm(["-R"], control: target, stdin: { saved }, out: { _ in }, err: { err += $0 },
                              readConnections: { [] })
        #expect(code == 0, "\(err)")
        #expect(target.saved == saved)
    }
}
