import Engine
import Foundation
import LVSModel
@testable import Shell
import Testing

/// The checks' part of the language: what a file's lines make, how they read back from the running
/// configuration, and the refusals (a batch without a daemon, bad options) that leave everything as it was.
struct HealthLanguageTests {
    static let site = """
        group web vip 192.0.2.10 tcp 80
        group mail vip 192.0.2.11 tcp 25,587
        service web scheduler wlc
        real web 198.51.100.1 nat weight 2
        real web 198.51.100.2 nat weight 3
        service mail
        real mail 198.51.100.3 dr
        service udp 192.0.2.12:53
        real udp 192.0.2.12:53 198.51.100.4 dr
        check web-http http path /health status 200-299,302 interval 1 timeout 0.5 rise 2 fall 2 host www.example.net expect 'ok|fine'
        check web-tls https port 443 sni www.example.net verify on digest 0123456789ABCDEF0123456789abcdef
        check plain tcp
        check syn tcp handshake half port 8080 timeout 0.5
        check mail-smtp smtp port 25 helo director.example.net
        check ns dns query example.net type AAAA interval 5 timeout 2
        check echo udp payload 68656c6c6f expect 6f6b
        check db script timeout 1.25 /usr/local/bin/check-db --quick 'a b'
        check alive ping source 192.0.2.1
        check drained file path /run/lvsh-drain weight 10
        service web check web-http quorum 3 hysteresis 1 sorry 198.51.100.9 on-failure remove alpha off
        service web check plain
        real web 198.51.100.2 check db
        real web 198.51.100.1 disable
        service mail check mail-smtp
        service udp 192.0.2.12:53 check ns
        metrics listen 127.0.0.1:9542
        set reconcile log

        """

    static func evaluate(_ text: String) throws(LVSError) -> ManagedState {
        try DesiredState.evaluate(text, file: "site.lvsh", readSysctl: { _ in nil }, autoSysctl: true).state
    }

    @Test("a file's checks, bindings, policies, maintenance and metrics make the daemon's part of its state")
    func fileMakesHealth() throws {
        let h = try Self.evaluate(Self.site).health
        #expect(h.checks.map(\.name) == ["web-http", "web-tls", "plain", "syn", "mail-smtp", "ns", "echo", "db", "alive", "drained"])
        let http = try #require(h.check(named: "web-http"))
        guard case .http(let p) = http.probe else { Issue.record("web-http is \(http.probe)"); return }
        #expect(p.path == "/health" && p.host == "www.example.net" && p.expect == "ok|fine" && p.tls == nil)
        #expect(p.status == [200...299, 302...302])
        #expect((http.intervalMilliseconds, http.timeoutMilliseconds, http.rise, http.fall) == (1000, 500, 2, 2))
        guard case .http(let tls) = try #require(h.check(named: "web-tls")).probe else { return }
        #expect(tls.tls?.verify == true && tls.tls?.sni == "www.example.net" && tls.digest == "0123456789abcdef0123456789abcdef")
        #expect(h.check(named: "plain")?.probe == .tcp)
        #expect(h.check(named: "syn")?.probe == .tcpHalfOpen && h.check(named: "syn")?.port == 8080)
        #expect(h.check(named: "ns")?.probe == .dns(name: "example.net", type: .aaaa))
        #expect(h.check(named: "echo")?.probe == .udp(payload: Array("hello".utf8), expect: Array("ok".utf8)))
        #expect(h.check(named: "db")?.probe == .script(["/usr/local/bin/check-db", "--quick", "a b"]))
        #expect(h.check(named: "db")?.timeoutMilliseconds == 1250)
        #expect(h.check(named: "alive")?.source == IPAddress("192.0.2.1"))
        #expect(h.check(named: "drained")?.probe == .file(path: "/run/lvsh-drain", weight: 10))
        let web = ServiceKey.fwmark(1000, .v4)
        #expect(h.serviceChecks[web] == ["web-http", "plain"])
        let policy = h.policy(web)
        #expect(policy.quorum == 3 && policy.hysteresis == 1 && policy.onFailure == .remove && !policy.alpha)
        #expect(policy.sorry == RealServerKey(address: IPAddress("198.51.100.9")!, port: 0))
        let r2 = RealReference(service: web, real: RealServerKey(address: IPAddress("198.51.100.2")!, port: 0))
        #expect(h.checks(of: r2).map(\.name) == ["db"], "a real server's own checks replace its service's")
        #expect(h.disabled == [RealReference(service: web, real: RealServerKey(address: IPAddress("198.51.100.1")!, port: 0))])
        #expect(h.metricsListen == ListenAddress(address: IPAddress("127.0.0.1")!, port: 9542))
        #expect(h.reconcile == .log)
    }

    @Test("health that sets a persistent service's real servers to weight 0 turns on expire_quiescent_template and says so; a sysctl line or auto-sysctl off is warned, not overridden")
    func persistenceWithHealthExpiresQuiescentTemplates() throws {
        let quiescent = "net.ipv4.vs.expire_quiescent_template"
        func evaluate(_ lines: String, persistent: Bool = true, current: String = "0", auto: Bool = true) throws(LVSError) -> (state: ManagedState, warnings: [String]) {
            let text = """
                group web vip 192.0.2.10 tcp 80,443
                service web scheduler wlc\(persistent ? " persistent 300" : "")
                real web 198.51.100.1 dr
                real web 198.51.100.2 dr
                check web-tcp tcp port 80

                """ + lines
            return try DesiredState.evaluate(text, file: "site.lvsh", readSysctl: { $0 == quiescent ? current : nil }, autoSysctl: auto)
        }
        let checked = try evaluate("service web check web-tcp")
        #expect(checked.state.sysctls[quiescent] == "1")
        #expect(checked.warnings == ["note: turning on \(quiescent): service web is persistent, and health or maintenance sets its real servers to weight 0; "
            + "with it their clients go to the other servers at once (`set auto-sysctl off` stops lvsh doing this)"], "\(checked.warnings)")
        #expect(SysctlAdvice.needs(of: IPVSTable(services: checked.state.services), health: checked.state.health).map(\.name).contains(quiescent))
        // Maintenance alone sets weight 0 too; a real server's own check counts as its service's.
        #expect(try evaluate("real web 198.51.100.1 disable").state.sysctls[quiescent] == "1")
        #expect(try evaluate("real web 198.51.100.2 check web-tcp").state.sysctls[quiescent] == "1")
        // Nothing to do: a failure that removes the server (its templates go with it), a service
        // without persistence, the kernel already expiring them, or no health at all.
        for (lines, persistent, current) in [("service web check web-tcp on-failure remove", true, "0"), ("service web check web-tcp", false, "0"),
                                             ("service web check web-tcp", true, "1"), ("", true, "0")] {
            let r = try evaluate(lines, persistent: persistent, current: current)
            #expect(r.state.sysctls[quiescent] == nil && r.warnings.isEmpty, "\(lines), persistent \(persistent), current \(current): \(r.warnings)")
            #expect(!SysctlAdvice.needs(of: IPVSTable(services: r.state.services), health: r.state.health).map(\.name).contains(quiescent) || current == "1")
        }
        // The file's own `sysctl` line, or auto-sysctl off: warned, the value left as it is.
        let explicit = try evaluate("sysctl expire_quiescent_template 0\nservice web check web-tcp")
        #expect(explicit.state.sysctls[quiescent] == "0")
        #expect(explicit.warnings.contains { $0.hasPrefix("warning: \(quiescent) is 0: service web is persistent") && $0.hasSuffix("(`sysctl expire_quiescent_template 1`)") }, "\(explicit.warnings)")
        let off = try evaluate("service web check web-tcp", auto: false)
        #expect(off.state.sysctls[quiescent] == nil)
        #expect(off.warnings.count == 1 && off.warnings[0].hasPrefix("warning: \(quiescent) is 0"))
    }

    @Test("the running configuration's health lines read back to the same state")
    func roundTrip() throws {
        let state = try Self.evaluate(Self.site)
        let text = RunningConfig.render(table: IPVSTable(services: state.services), groups: state.groups, timeouts: nil,
                                        daemons: [], sysctls: [], health: state.health)
        let again = try Self.evaluate(text)
        #expect(again.health == state.health, "\(text)")
        #expect(again.services.sorted { $0.service.key < $1.service.key } == state.services.sorted { $0.service.key < $1.service.key })
        #expect(text.contains("check db script timeout 1.25 /usr/local/bin/check-db --quick 'a b'\n"), "\(text)")
        #expect(text.contains("real web 198.51.100.1:0 disable\n"), "\(text)")
    }

    @Test("removed services and real servers take their bindings with them")
    func pruned() throws {
        let h = try Self.evaluate(Self.site + "no real web 198.51.100.1\nno service mail\n").health
        #expect(h.disabled.isEmpty)
        #expect(h.serviceChecks[.fwmark(1001, .v4)] == nil)
        #expect(h.serviceChecks[.fwmark(1000, .v4)] != nil)
    }

    @Test("bad health lines are refused with what, where and what to do", arguments: [
        ("check x http timeout 3 interval 2", "timeout 3 is longer than interval 2"),
        ("check x http interval 0", "'0' is not a time in seconds"),
        ("check x http interval 1.2345", "is not a time in seconds"),
        ("check x https digest abc", "is not an MD5 digest"),
        ("check x http expect '(unclosed'", "is not a regular expression"),
        ("check x http path health", "must start with /"),
        ("check x http status 99", "HTTP statuses are 100 to 599"),
        ("check x http status 300-200", "runs backwards"),
        ("check x udp payload abc", "is not bytes in hex"),
        ("check x dns query 'bad name'", "is not a DNS name"),
        ("check x script check-db", "absolute path"),
        ("check x script", "script needs the program to run"),
        ("check x file weight 2", "needs `path /ABSOLUTE/FILE`"),
        ("check x tcp address 192.0.2.1 source 2001:db8::1", "different families"),
        ("service web check nothing", "there is no check nothing"),
        ("check x tcp\nservice mail check x", "check x needs a port for the real servers of fwmark 1001: group mail has more than one port"),
        ("service web quorum 1 hysteresis 2", "hysteresis 2 is larger than quorum 1"),
        ("service web sorry 2001:db8::9", "not of the service's family"),
        ("real web 198.51.100.7 disable", "there is no real server 198.51.100.7:0"),
        ("check x tcp\nservice web check x\nno check x", "check x is in use by service fwmark 1000 (group web)"),
        ("no service web check plain2", "group web) does not run check plain2"),
        ("check y tcp\nno service web check y", "does not run check y"),
    ])
    func refusals(_ line: String, _ expected: String) {
        let base = "group web vip 192.0.2.10 tcp 80\ngroup mail vip 192.0.2.11 tcp 25,587\nservice web\nreal web 198.51.100.1 nat\nservice mail\nreal mail 198.51.100.3 dr\ncheck plain tcp\n"
        do {
            _ = try Self.evaluate(base + line + "\n")
            Issue.record("accepted: \(line)")
        } catch {
            #expect(error.code == .badInput)
            #expect(error.message.contains(expected), "\(error.message)")
        }
    }

    @Test("without a daemon, a batch with a health line is refused whole: nothing reaches the kernel", arguments: [
        "check web-http http", "service web check plain", "real web 198.51.100.1 disable", "metrics listen 127.0.0.1:9542",
        "no metrics listen", "set reconcile log", "service web scheduler rr quorum 2", "no check plain",
    ])
    func needsDaemon(_ line: String) {
        let host = EngineTests.Host()
        #expect(host.run("group web vip 192.0.2.10 tcp 80\nservice web\nreal web 198.51.100.1 nat") == 0, "\(host.err)")
        let before = host.state
        #expect(host.run("real web 198.51.100.2 nat\n" + line) == 2)
        #expect(host.err.contains("needs `lvsh daemon`"), "\(host.err)")
        #expect(host.state == before)
    }

    @Test("apply sets the kernel's part of a file with checks and says that the checks need the daemon")
    func applyWarns() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("lvsh-health-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("site.lvsh").path
        try Self.site.write(toFile: file, atomically: true, encoding: .utf8)
        let host = EngineTests.Host()
        #expect(host.run("apply \(file)") == 0, "\(host.err) \(host.out)")
        #expect(host.err.contains("10 checks, 1 real server in maintenance, metrics, daemon settings need `lvsh daemon \(file)`; apply sets the written weights"), "\(host.err)")
        #expect(host.ipvs.saved.contains("-a -f 1000 -r 198.51.100.1:0 -m -w 2"), "\(host.ipvs.saved)")
        #expect(!host.ipvs.saved.contains("198.51.100.9"), "the sorry server is the daemon's to add")
    }

    @Test("seconds, hex and status lists read and print back")
    func valueKinds() throws {
        #expect(Seconds.milliseconds("2") == 2000 && Seconds.milliseconds("0.5") == 500 && Seconds.milliseconds("1.25") == 1250)
        #expect(Seconds.milliseconds("0.01") == 10 && Seconds.milliseconds("0.001") == nil && Seconds.milliseconds("86401") == nil)
        for bad in ["", ".5", "1.", "-1", "+1", "1e3", "1.2.3", "١"] { #expect(Seconds.milliseconds(bad) == nil, "\(bad)") }
        for ms: UInt32 in [10, 500, 1000, 1250, 86_400_000, 2001] { #expect(Seconds.milliseconds(Seconds.text(ms)) == ms) }
        #expect(Hex.bytes("0aFf") == [10, 255] && Hex.bytes("0g") == nil && Hex.text([10, 255]) == "0aff")
        #expect(try StatusList.parse("200-299,302") == [200...299, 302...302])
        #expect(HealthText.quoted("a'b c") == "'a'\\''b c'")
    }
}

/// `show health` and `show checks` as a daemon's session prints them, and without a daemon.
struct HealthShowTests {
    static let status = RealHealthStatus(
        ref: RealReference(service: .fwmark(1000, .v4), real: RealServerKey(address: IPAddress("198.51.100.1")!, port: 0)),
        group: "web", checks: ["web-http"], state: .down, weight: 0, desiredWeight: 2, since: 1_796_265_759,
        last: .init(ok: false, milliseconds: 1000, reason: "connect: connection refused \"x\""))

    @Test("show health json has DESIGN.md's frozen shape")
    func json() {
        let host = EngineTests.Host()
        let session = host.session()
        session.healthStatus = { [Self.status] }
        #expect(session.runCommandLine(["show", "health", "json"]) == 0, "\(host.err)")
        #expect(host.out == #"{"reals":[{"service":"fwm 1000","group":"web","address":"198.51.100.1","port":0,"check":"web-http","state":"down","weight":0,"desired_weight":2,"since":"2026-12-03T02:42:39Z","last":{"ok":false,"ms":1000,"reason":"connect: connection refused \"x\""}}]}"# + "\n")
    }

    @Test("show health as text; show checks lists users; both refuse without a daemon")
    func text() {
        let host = EngineTests.Host()
        let session = host.session()
        session.healthStatus = { [Self.status] }
        var h = HealthConfig()
        h.define(HealthCheck(name: "web-http", probe: .http(HTTPProbe())))
        h.serviceChecks[.fwmark(1000, .v4)] = ["web-http"]
        session.health = h
        #expect(session.runCommandLine(["show", "health"]) == 0)
        #expect(host.out.contains("web (fwm 1000)  198.51.100.1:0  web-http  down   0/2"), "\(host.out)")
        host.out = ""
        #expect(session.runCommandLine(["show", "checks"]) == 0)
        #expect(host.out == "check web-http http\n    used by service fwm 1000\n", "\(host.out)")
        let plain = EngineTests.Host()
        #expect(plain.run("show health") == 1)
        #expect(plain.err.contains("needs `lvsh daemon`"))
    }
}
