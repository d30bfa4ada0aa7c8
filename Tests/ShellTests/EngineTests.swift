import Firewall
import IPVS
import LVSModel
@testable import Shell
import Testing
import TestSupport
import Engine
import IPVSAdm
import Listings

/// The engine without root or a lab: batches run through Session → Batch → Transaction → Executor
/// against an in-memory IPVS (FakeIPVS, written apart from lvsh's model) and in-memory groups.
struct EngineTests {
    /// An in-memory namespace: IPVS, groups and sysctls, and what lvsh printed.
    final class Host {
        let ipvs = FakeIPVS()
        let marks = FakeMarks()
        var sysctls: [String: String] = ["net.ipv4.ip_forward": "0", "net.ipv4.vs.expire_nodest_conn": "0"]
        var out = "", err = ""

        func session(_ options: SessionOptions = SessionOptions()) -> Session {
            var options = options
            options.ipvsadm = IPVSAdmLanguage()
            return Session(options: options, control: ipvs, backend: marks,
                    out: { self.out += $0 }, err: { self.err += $0 },
                    readSysctl: { self.sysctls[$0] },
                    writeSysctl: { (name: String, value: String) throws(LVSError) in self.sysctls[name] = value },
                    runtime: { () throws(LVSError) in nil })
        }

        func run(_ script: String, _ options: SessionOptions = SessionOptions()) -> Int32 {
            out = ""
            err = ""
            return session(options).runBatch(script, name: "t.lvsh")
        }

        /// Everything a batch may change, as comparable text.
        var state: String {
            ipvs.saved + marks.stored.map { "\($0.name) \($0.mark) \($0.entries.map(\.description))" }.joined(separator: "\n")
                + "\n" + sysctls.sorted { $0.key < $1.key }.map { "\($0)=\($1)" }.joined(separator: " ")
                + "\n\(ipvs.timeoutValues)"
        }
    }

    static let site = """
        group web vip 192.168.61.129 tcp 80,443
        service web scheduler wlc persistent 300
        real web 192.168.147.129 nat weight 3
        real web 192.168.147.130 nat
        service tcp 10.0.0.5:25 scheduler rr
        real tcp 10.0.0.5:25 192.168.147.140 dr
        timeout tcp 901 tcpfin 121 udp 301
        sysctl expire_nodest_conn 1
        """

    @Test("a batch ends with the kernel holding what its candidate planned")
    func commits() {
        let host = Host()
        #expect(host.run(Self.site) == 0, "\(host.err)")
        #expect(host.ipvs.saved.contains("-A -f 1000 -s wlc -p 300"))
        #expect(host.ipvs.saved.contains("-a -f 1000 -r 192.168.147.129:0 -m -w 3"))
        #expect(host.ipvs.saved.contains("-a -t 10.0.0.5:25 -r 192.168.147.140:25 -g -w 1"))
        #expect(host.marks.stored.map(\.name) == ["web"])
        #expect(host.sysctls["net.ipv4.ip_forward"] == "1", "NAT turns forwarding on, and says so")
        #expect(host.err.contains("note: turning on net.ipv4.ip_forward"))
        #expect(host.ipvs.timeoutValues == Timeouts(tcp: 901, tcpFin: 121, udp: 301))
        // One IPVS call for the whole batch: changes are not flushed command by command.
        #expect(host.ipvs.batches.count == 1)
    }

    @Test("a `sysctl ip_forward 0` of the batch wins over auto-sysctl: warned, not overridden")
    func explicitForwardingWins() {
        let host = Host()
        #expect(host.run("sysctl ip_forward 0\nservice tcp 10.0.0.5:80\nreal tcp 10.0.0.5:80 192.168.147.129 nat") == 0, "\(host.err)")
        #expect(host.sysctls["net.ipv4.ip_forward"] == "0")
        #expect(host.err.contains("warning: net.ipv4.ip_forward is 0"))
        #expect(!host.err.contains("turning on"))
    }

    @Test("a kernel refusal at any step k undoes steps 1..k-1: the kernel ends as it began")
    func undoAtEveryStep() {
        let setup = "group keep vip 10.9.9.9 udp 53\nservice tcp 10.0.0.9:80\nreal tcp 10.0.0.9:80 10.1.1.1 nat"
        let probe = Host()
        #expect(probe.run(setup) == 0)
        var dry = SessionOptions()
        dry.dryRun = true
        #expect(probe.run(Self.site, dry) == 0)
        let steps = probe.out.split(separator: "\n").count
        #expect(steps == 8, "\(probe.out)")
        for k in 1...steps {
            let host = Host()
            #expect(host.run(setup) == 0)
            let before = host.state
            var options = SessionOptions()
            options.failStep = k
            #expect(host.run(Self.site, options) == 1, "step \(k)")
            #expect(host.err.contains("LVSH_FAIL_STEP=\(k)"), "step \(k): \(host.err)")
            #expect(host.err.contains("the kernel is as it was before this batch"), "step \(k)")
            #expect(host.state == before, "step \(k) left the kernel changed")
        }
    }

    @Test("a refusal anywhere in a batch (bad value, bad setting, bad show) applies nothing", arguments: [
        "group a vip 10.0.0.1 tcp 80\nreal tcp 10.9.9.9:80 10.1.1.1 nat",
        "group a vip 10.0.0.1 tcp 80\nno service tcp 10.9.9.9:80",
        "group a vip 10.0.0.1 tcp 80\nset backend bogus\ngroup b vip 10.0.0.2 tcp 80",
        "group a vip 10.0.0.1 tcp 80\nsave /\ngroup b vip 10.0.0.2 tcp 80",
        "group a vip 10.0.0.1 tcp 80\nipvsadm -a -t 10.9.9.9:80 -r 10.1.1.1",
        "group a vip 10.0.0.1 tcp 80\napply x.lvsh",
    ])
    func refusedBatchAppliesNothing(_ script: String) {
        let host = Host()
        let before = host.state
        let code = host.run(script)
        #expect(code == 2, "\(host.err)")
        #expect(host.state == before)
        #expect(host.out.isEmpty)
        #expect(host.ipvs.batches.isEmpty && host.marks.transactions.isEmpty)
    }

    @Test("refusals are worded in the language of the line: lvsh's commands, or ipvsadm's options")
    func refusalWording() {
        let host = Host()
        #expect(host.run("real tcp 10.9.9.9:80 10.1.1.1 nat") == 2)
        #expect(host.err.contains("there is no service tcp 10.9.9.9:80; create it first with `service ...`"), "\(host.err)")
        #expect(!host.err.contains("-A") && !host.err.contains(" -e ") && !host.err.contains(" -r "), "\(host.err)")
        #expect(host.run("ipvsadm -a -t 10.9.9.9:80 -r 10.1.1.1") == 2)
        #expect(host.err.contains("create it with -A -t 10.9.9.9:80"), "\(host.err)")
        #expect(host.run("service tcp 10.0.0.9:80\nno real tcp 10.0.0.9:80 10.1.1.1") == 2)
        #expect(host.err.contains("real server 10.1.1.1:80 is not in service tcp 10.0.0.9:80, so there is nothing to remove"), "\(host.err)")
    }

    @Test("apply takes `time` as `timeout`: the desired timeouts are the candidate's, whatever the words")
    func applyTimeoutAbbreviation() throws {
        for line in ["time tcp 901 tcpfin 121 udp 301", "timeout tcp 901 tcpfin 121 udp 301", "ipvsadm --set 901 121 301"] {
            let (state, _) = try DesiredState.evaluate(line + "\n", file: "f", readSysctl: { _ in nil }, autoSysctl: true, ipvsadm: IPVSAdmLanguage())
            #expect(state.timeouts == Timeouts(tcp: 901, tcpFin: 121, udp: 301), "\(line)")
        }
        let (none, _) = try DesiredState.evaluate("service tcp 10.0.0.9:80\n", file: "f", readSysctl: { _ in nil }, autoSysctl: true)
        #expect(none.timeouts == nil, "a file without timeouts leaves them alone")
    }

    @Test("with assumed services a candidate can model only some of them (a reload's plan); reading the kernel, all")
    func aCandidateCanModelPartOfAnAssumedTable() throws {
        let host = Host()
        #expect(host.run("service tcp 10.0.0.1:80 scheduler rr\nservice tcp 10.0.0.2:80 scheduler rr\nreal tcp 10.0.0.2:80 10.1.0.1 nat") == 0)
        let session = host.session()
        let k2 = ServiceKey.inet(.tcp, IPAddress("10.0.0.2")!, 80)
        var tx = try Transaction(session.kernel, reads: .assumingServices(host.ipvs.services), writing: false)
        tx.modelOnly([k2])
        #expect(tx.modelsPart && tx.candidate.serviceCount == 1 && tx.candidate.service(k2)?.realServers.count == 1)
        try tx.candidate.apply(.editRealServer(k2, RealServer(address: IPAddress("10.1.0.1")!, port: 80, forwarding: .masquerade, weight: 4)), "")
        #expect(tx.candidate.changes.count == 1)
        tx.modelOnly([])   // too late: the candidate is made
        #expect(tx.candidate.serviceCount == 1)
        var whole = try Transaction(session.kernel, reads: .everything, writing: false)
        whole.modelOnly([k2])
        #expect(!whole.modelsPart && whole.candidate.serviceCount == 2)
    }

    @Test("a file's lines that start with `service ` are counted to size the modelled table once")
    func serviceLinesAreCounted() {
        #expect(DesiredState.serviceLines(in: "") == 0)
        #expect(DesiredState.serviceLines(in: "service tcp 10.0.0.1:80\nreal tcp 10.0.0.1:80 10.1.0.1\nservice tcp 10.0.0.2:80") == 2)
        #expect(DesiredState.serviceLines(in: " service a\nservices\nno service a\n# service a\nservicetcp\nservic") == 0)
        #expect(DesiredState.serviceLines(in: "group a vip 10.0.0.1 tcp 80\nservice a\nservice a check web\n") == 2)
    }

    @Test("shows after a change see the candidate; shows before it see the kernel; output only after the commit")
    func showsSeeTheirPlace() {
        let host = Host()
        #expect(host.run("show groups\ngroup a vip 10.0.0.1 tcp 80\nshow groups\nipvsadm -S -n\nservice a\nipvsadm -S -n") == 0, "\(host.err)")
        #expect(host.out == "no port groups (create one with `group NAME vip ADDRESS PROTO PORTS`)\n"
                + "group a vip 10.0.0.1 tcp 80 mark 1000\n-A -f 1000 -s wlc\n", "\(host.out)")
    }

    @Test("quit ends a batch; load includes a file in place, checked with the batch")
    func quitAndLoad() throws {
        let host = Host()
        #expect(host.run("group a vip 10.0.0.1 tcp 80\nquit\ngroup b vip 10.0.0.2 tcp 80") == 0)
        #expect(host.marks.stored.map(\.name) == ["a"])
        #expect(host.run("load /nonexistent/x.lvsh") == 2)
        #expect(host.err.contains("t.lvsh:1:6: cannot read /nonexistent/x.lvsh"), "\(host.err)")
    }

    static func randomCommand(_ g: inout SeededGenerator) -> String {
        let group = "g\(g.below(4))", vip = "10.0.\(g.below(3)).\(g.below(3) + 1)", port = g.below(5) + 80
        let real = "10.1.0.\(g.below(4) + 1)"
        switch g.below(14) {
        case 0, 11, 12: return "group \(group) vip \(vip) tcp \(port)"
        case 13: return "service \(group)"
        case 1: return "group \(group) add vip \(vip) udp \(port)"
        case 2: return "no group \(group)"
        case 3: return "service \(group) scheduler \(["rr", "wlc", "sh"][g.below(3)])"
        case 4: return "real \(group) \(real) nat weight \(g.below(5))"
        case 5: return "no real \(group) \(real)"
        case 6: return "service tcp \(vip):\(port) scheduler rr persistent \(g.below(3) * 60 + 1)"
        case 7: return "real tcp \(vip):\(port) \(real) dr"
        case 8: return "no service tcp \(vip):\(port)"
        case 9: return "timeout tcp \(g.below(900) + 1) tcpfin 60 udp 120"
        default: return "ipvsadm -a -t \(vip):\(port) -r \(real) -w \(g.below(3))"
        }
    }

    @Test("random batches: committed ones leave the kernel as the candidate planned; refused ones leave it untouched")
    func randomBatches() {
        var g = SeededGenerator(state: 0x5EED)
        let host = Host()
        var committed = 0, refused = 0
        for _ in 0..<300 {
            let script = (0..<(g.below(3) + 1)).map { _ in Self.randomCommand(&g) }.joined(separator: "\n")
            let before = host.state
            // What the engine's own model expects: the batch run against a candidate of the kernel now.
            var expected = Transaction.read(host.session().kernel)
            var expectOK = true
            for line in script.split(separator: "\n") {
                guard case .success(let (command, bindings)) = Catalog.table.parse(line.split(separator: " ").map(String.init)) else {
                    expectOK = false
                    break
                }
                do throws(LVSError) {
                    switch command.handler {
                    case .change(let handler): try handler(bindings, &expected)
                    case .ipvsadm:
                        expected.wording = IPVSAdmWording()
                        for op in try IPVSAdmParser.parse(bindings.all("args")).operations { try expected.apply(op, "") }
                    default: break
                    }
                } catch {
                    expectOK = false
                    break
                }
            }
            let code = host.run(script)
            if expectOK {
                expected.finish()
                committed += 1
                #expect(code == 0, "\(script)\n\(host.err)")
                #expect(host.ipvs.saved == IPVSAdmSave.rules(expected.table), "\(script)")
                #expect(host.marks.stored == expected.groups.values.sorted { $0.name < $1.name }, "\(script)")
            } else {
                refused += 1
                #expect(code == 2, "\(script)\n\(host.err)")
                #expect(host.state == before, "\(script)")
            }
        }
        #expect(committed > 40 && refused > 40, "both kinds exercised: \(committed) committed, \(refused) refused")
    }

    /// A batch against a kernel that holds `group web` (mark 1000) with its fwmark service and one real
    /// server, and the plan --dry-run prints.
    static let plans: [(batch: String, plan: [String])] = [
        ("real web 10.1.1.1 nat weight 5", ["1. change real server 10.1.1.1:0 of fwmark 1000 (group web): nat weight 5"]),
        ("real web 10.1.1.1 nat", ["nothing to change"]),
        ("group web add vip 192.0.2.1 tcp 443", ["1. add entries to group web"]),
        ("no real web 10.1.1.1", ["1. remove real server 10.1.1.1:0 from fwmark 1000 (group web)"]),
        ("group api vip 192.0.2.2 tcp 80\nservice api scheduler rr",
         ["1. add group api mark 1001", "2. add service fwmark 1001 (group api): scheduler rr"]),
        ("ipvsadm -e -f 1000 -r 10.1.1.1 -m -w 9", ["1. ipvsadm -e -f 1000 -r 10.1.1.1 -m -w 9"]),
    ]

    @Test("table of batches and the plans they make", arguments: 0..<plans.count)
    func plansOfBatches(_ i: Int) {
        let host = Host()
        #expect(host.run("group web vip 192.0.2.1 tcp 80\nservice web scheduler wlc\nreal web 10.1.1.1 nat") == 0, "\(host.err)")
        var dry = SessionOptions()
        dry.dryRun = true
        let before = host.state
        #expect(host.run(Self.plans[i].batch, dry) == 0, "\(host.err)")
        #expect(host.out.split(separator: "\n").map(String.init) == Self.plans[i].plan, "\(host.out)")
        #expect(host.state == before, "--dry-run writes nothing")
    }
}
