import Testing
import LVSModel
@testable import Shell
import IPVSAdm

private func ip(_ s: String) -> IPAddress { IPAddress(s)! }
private let vip = ServiceKey.inet(.tcp, ip("192.168.61.129"), 80)

/// What each command line parses to, option by option.
@Suite struct IPVSAdmParserTests {
    struct Case: CustomTestStringConvertible, Sendable {
        var args: [String]
        var request: IPVSAdmRequest
        var testDescription: String { args.joined(separator: " ") }
    }

    static let cases: [Case] = [
        // Services: defaults are wlc, not persistent, a host netmask.
        Case(args: ["-A", "-t", "192.168.61.129:80", "-s", "rr"], request: .apply([.addService(VirtualService(key: vip, scheduler: "rr"))])),
        Case(args: ["-A", "-t", "192.168.61.129:80"], request: .apply([.addService(VirtualService(key: vip))])),
        Case(args: ["-A", "-u", "10.0.0.1:53", "-o"],
             request: .apply([.addService(VirtualService(key: .inet(.udp, ip("10.0.0.1"), 53), flags: .onePacket))])),
        Case(args: ["-A", "--sctp-service", "10.0.0.1:5060", "-s", "sh", "-b", "sh-port"],
             request: .apply([.addService(VirtualService(key: .inet(.sctp, ip("10.0.0.1"), 5060), scheduler: "sh", flags: .schedulerFlag2))])),
        // A bare -p is 360 s, libipvs's IPVS_SVC_PERSISTENT_TIMEOUT.
        Case(args: ["-A", "-t", "192.168.61.129:80", "-p"],
             request: .apply([.addService(VirtualService(key: vip, flags: .persistent, timeout: 360))])),
        Case(args: ["-A", "-t", "192.168.61.129:0", "-p", "60", "-M", "255.255.255.0", "--pe", "sip"],
             request: .apply([.addService(VirtualService(key: .inet(.tcp, ip("192.168.61.129"), 0), flags: .persistent, timeout: 60,
                                                         netmask: 0xffff_ff00, persistenceEngine: "sip"))])),
        Case(args: ["-A", "-f", "1000", "-6", "-p", "60", "-M", "64"],
             request: .apply([.addService(VirtualService(key: .fwmark(1000, .v6), flags: .persistent, timeout: 60, netmask: 64))])),
        Case(args: ["-A", "-t", "[2001:db8::1]:443", "-s", "mh", "-b", "mh-fallback,mh-port"],
             request: .apply([.addService(VirtualService(key: .inet(.tcp, ip("2001:db8::1"), 443), scheduler: "mh",
                                                         flags: [.schedulerFlag1, .schedulerFlag2]))])),
        // -E replaces every setting: what is not given goes back to the default.
        Case(args: ["-E", "-t", "192.168.61.129:80", "-s", "wrr"], request: .apply([.editService(VirtualService(key: vip, scheduler: "wrr"))])),
        Case(args: ["-D", "-f", "7"], request: .apply([.deleteService(.fwmark(7, .v4))])),
        Case(args: ["-C"], request: .apply([.flush])),
        // Real servers: DR and TUN take the service's port; NAT keeps its own.
        Case(args: ["-a", "-t", "192.168.61.129:80", "-r", "192.168.147.129:8080"],
             request: .apply([.addRealServer(vip, RealServer(address: ip("192.168.147.129"), port: 80))])),
        Case(args: ["-a", "-t", "192.168.61.129:80", "-r", "192.168.147.129:8080", "-m", "-w", "3", "-x", "100", "-y", "10"],
             request: .apply([.addRealServer(vip, RealServer(address: ip("192.168.147.129"), port: 8080, forwarding: .masquerade,
                                                             weight: 3, upperThreshold: 100, lowerThreshold: 10))])),
        Case(args: ["-a", "-t", "192.168.61.129:80", "-r", "192.168.147.129", "-m"],
             request: .apply([.addRealServer(vip, RealServer(address: ip("192.168.147.129"), port: 80, forwarding: .masquerade))])),
        Case(args: ["-a", "-f", "1000", "-r", "10.0.0.5"],
             request: .apply([.addRealServer(.fwmark(1000, .v4), RealServer(address: ip("10.0.0.5"), port: 0))])),
        Case(args: ["-a", "-t", "192.168.61.129:80", "-r", "10.0.0.5", "-i", "--tun-type", "gue", "--tun-port", "6080", "--tun-csum"],
             request: .apply([.addRealServer(vip, RealServer(address: ip("10.0.0.5"), port: 80, forwarding: .tunnel, tunnelType: .gue,
                                                             tunnelPort: 6080, tunnelFlags: .checksum))])),
        Case(args: ["-a", "-t", "[2001:db8::1]:80", "-r", "10.0.0.5", "-i", "--tun-type", "gre", "--tun-nocsum"],
             request: .apply([.addRealServer(.inet(.tcp, ip("2001:db8::1"), 80), RealServer(address: ip("10.0.0.5"), port: 80,
                                                                                             forwarding: .tunnel, tunnelType: .gre))])),
        Case(args: ["-e", "-t", "192.168.61.129:80", "-r", "192.168.147.129:8080", "-m"],
             request: .apply([.editRealServer(vip, RealServer(address: ip("192.168.147.129"), port: 8080, forwarding: .masquerade))])),
        // -d names the real server by address and port only; its port is never rewritten.
        Case(args: ["-d", "-t", "192.168.61.129:80", "-r", "192.168.147.129:8080"],
             request: .apply([.deleteRealServer(vip, RealServerKey(address: ip("192.168.147.129"), port: 8080))])),
        Case(args: ["-Z"], request: .apply([.zero(nil)])),
        Case(args: ["-Z", "-t", "0.0.0.0:0"], request: .apply([.zero(nil)])),
        Case(args: ["-Z", "-t", "192.168.61.129:80"], request: .apply([.zero(vip)])),
        Case(args: ["--set", "900", "120", "300"], request: .apply([.setTimeouts(Timeouts(tcp: 900, tcpFin: 120, udp: 300))])),
        Case(args: ["--start-daemon", "master"], request: .apply([.startDaemon(SyncDaemon(role: .master, interface: "eth0"))])),
        Case(args: ["--start-daemon", "backup", "--mcast-interface", "eth1", "--syncid", "7", "--sync-maxlen", "1400",
                    "--mcast-group", "ff02::81", "--mcast-port", "8849", "--mcast-ttl", "2"],
             request: .apply([.startDaemon(SyncDaemon(role: .backup, interface: "eth1", syncID: 7, maxLength: 1400,
                                                      group: ip("ff02::81"), port: 8849, ttl: 2))])),
        Case(args: ["--stop-daemon", "backup"], request: .apply([.stopDaemon(.backup)])),
        // Listings.
        Case(args: [], request: .listAll([])),
        Case(args: ["-L", "-n"], request: .listAll(.numeric)),
        Case(args: ["-Ln", "--stats", "--exact"], request: .listAll([.numeric, .stats, .exact])),
        Case(args: ["-l", "-n", "--rate", "--nosort", "--sort"], request: .listAll([.numeric, .rate, .noSort])),
        Case(args: ["-L", "-n", "--thresholds", "--persistent-conn", "--tun-info"],
             request: .listAll([.numeric, .thresholds, .persistentConnections, .tunnelInfo])),
        Case(args: ["-L", "-n", "-t", "192.168.61.129:80"], request: .listService(vip, .numeric)),
        Case(args: ["-L", "-n", "-c", "--persistent-conn"], request: .listConnections([.numeric, .persistentConnections])),
        Case(args: ["-L", "--timeout"], request: .listTimeouts),
        Case(args: ["-L", "--daemon"], request: .listDaemons),
        Case(args: ["-S", "-n"], request: .save(.numeric)),
        Case(args: ["-R"], request: .restore),
        Case(args: ["-h", "anything", "--at-all"], request: .help),
        Case(args: ["--version"], request: .version),
    ]

    @Test(arguments: cases)
    func parses(_ c: Case) throws {
        #expect(try IPVSAdmParser.parse(c.args).request == c.request)
    }

    /// Every long option means the same as its short form.
    @Test(arguments: [
        (["-A", "-t", "10.0.0.1:80", "-s", "rr", "-p", "60", "-M", "255.255.0.0"],
         ["--add-service", "--tcp-service", "10.0.0.1:80", "--scheduler", "rr", "--persistent", "60", "--netmask", "255.255.0.0"]),
        (["-E", "-u", "10.0.0.1:53", "-o", "-b", "flag-1"], ["--edit-service", "--udp-service=10.0.0.1:53", "--ops", "--sched-flags=flag-1"]),
        (["-D", "-f", "5", "-6"], ["--delete-service", "--fwmark-service", "5", "--ipv6"]),
        (["-a", "-t", "10.0.0.1:80", "-r", "10.0.0.2", "-m", "-w", "2", "-x", "9", "-y", "1"],
         ["--add-server", "--tcp-service", "10.0.0.1:80", "--real-server", "10.0.0.2", "--masquerading", "--weight", "2",
          "--u-threshold", "9", "--l-threshold", "1"]),
        (["-e", "-t", "10.0.0.1:80", "-r", "10.0.0.2", "-i"], ["--edit-server", "-t10.0.0.1:80", "--real-server=10.0.0.2", "--ipip"]),
        (["-d", "-t", "10.0.0.1:80", "-r", "10.0.0.2"], ["--delete-server", "-t=10.0.0.1:80", "-r", "10.0.0.2"]),
        (["-a", "-t", "10.0.0.1:80", "-r", "10.0.0.2", "-g"], ["-at", "10.0.0.1:80", "-r10.0.0.2", "--gatewaying"]),
        (["-C"], ["--clear"]),
        (["-Z"], ["--zero"]),
        (["-S", "-n"], ["--save", "--numeric"]),
        (["-R"], ["--restore"]),
        (["-L", "-n", "-c"], ["--list", "--numeric", "--connection"]),
        (["-L", "-X"], ["-l", "--exact"]),
        (["-h"], ["--help"]),
    ])
    func longAndShortAgree(_ short: [String], _ long: [String]) throws {
        #expect(try IPVSAdmParser.parse(short) == IPVSAdmParser.parse(long))
    }

    @Test func optionsAreRecordedInIPVSAdmTerms() throws {
        let c = try IPVSAdmParser.parse(["-a", "-t", "10.0.0.1:80", "-r", "10.0.0.2", "-m", "-w", "2"])
        #expect(c.command == .addServer)
        #expect(c.options == [.service, .realServer, .forwarding, .weight])
    }

    @Test func commandTableRowsCoverEveryOption() {
        for command in IPVSAdmCommand.Command.allCases {
            #expect(IPVSAdmOptionTable.row(for: command).count == IPVSAdmCommand.Option.allCases.count, "\(command)")
        }
    }

    @Test func portNamesFollowTheServiceProtocol() throws {
        #expect(try IPVSAdmParser.parse(["-A", "-t", "10.0.0.1:https"]).service == .inet(.tcp, ip("10.0.0.1"), 443))
        #expect(try IPVSAdmParser.parse(["-A", "-u", "10.0.0.1:domain"]).service == .inet(.udp, ip("10.0.0.1"), 53))
        #expect(throws: LVSError.self) { try IPVSAdmParser.parse(["-A", "-u", "10.0.0.1:http"]) }
    }

    @Test func addressesInCNotation() throws {
        // inet_aton forms, as ipvsadm accepts them.
        for (text, expected) in [("10.1:80", "10.0.0.1"), ("127.1:80", "127.0.0.1"), ("0x7f000001:80", "127.0.0.1"),
                                 ("0177.0.0.1:80", "127.0.0.1"), ("10.1.2:80", "10.1.0.2")] {
            #expect(try IPVSAdmParser.parse(["-A", "-t", text]).service == .inet(.tcp, ip(expected), 80), "\(text)")
        }
    }
}

/// Rejected command lines: each message names the option and says what to do.
@Suite struct IPVSAdmRejectionTests {
    @Test(arguments: [
        (["-A", "-t", "192.168.61.129:80", "-r", "10.0.0.1"], ["-r (real-server) cannot be used with -A (add-service)", "-a or -e"]),
        (["-A", "-t", "1.2.3.4:0"], ["port 0", "-p"]),
        (["-A", "-t", "1.2.3.4"], ["port 0", "persistent"]),
        (["-A", "-t", "web.example.com:80"], ["-t web.example.com:80", "not a numeric", "host names"]),
        (["-A", "-t", "80"], ["-t 80", "address"]),
        (["-A", "-t", "[2001:db8::1]"], ["[2001:db8::1]:80"]),
        (["-A", "-t", "1.2.3.4:htp"], ["'htp'", "tcp service name"]),
        (["-A", "-t", "1.2.3.4:80", "-s", "rr", "-s", "wrr"], ["-s (scheduler) is given twice"]),
        (["-A", "-t", "1.2.3.4:80", "-f", "3"], ["virtual service", "twice"]),
        (["-A", "-t", "1.2.3.4:80", "-D"], ["-D", "only one command", "-A (add-service)"]),
        (["-t", "1.2.3.4:80", "-A"], ["-t cannot come first", "command first"]),
        (["--add-serv", "-t", "1.2.3.4:80"], ["--add-serv", "--add-service"]),
        (["-A", "-t"], ["-t needs a value"]),
        (["-A", "-t", "1.2.3.4:80", "--foo"], ["--foo"]),
        (["-Lq"], ["-q", "-Lq"]),
        (["-L", "--numeric=5"], ["--numeric takes no value"]),
        (["-A"], ["-A (add-service) needs a virtual service"]),
        (["-a", "-t", "1.2.3.4:80"], ["-a (add-server) needs a real server: -r"]),
        (["-A", "-t", "1.2.3.4:80", "-p", "0"], ["-p 0", "1 to 2678400"]),
        (["-A", "-t", "1.2.3.4:80", "-o"], ["-o", "UDP"]),
        (["-A", "-t", "1.2.3.4:80", "-b", "sh-port"], ["sh-port", "-s sh"]),
        (["-A", "-t", "1.2.3.4:80", "-s", "rr", "-b", "flag-9"], ["flag-9"]),
        (["-A", "-t", "[2001:db8::1]:80", "-p", "-M", "129"], ["-M 129", "1 to 128"]),
        (["-A", "-t", "1.2.3.4:80", "-p", "-M", "bogus"], ["-M bogus", "netmask"]),
        (["-A", "-6", "-f", "1"], ["-6", "after -f"]),
        (["-A", "-f", "0"], ["-f 0", "from 1"]),
        (["-a", "-t", "1.2.3.4:80", "-r", "[2001:db8::5]:80", "-m"], ["IPv6", "IPv4", "-i"]),
        (["-a", "-t", "1.2.3.4:80", "-r", "10.0.0.5", "--tun-type", "gue", "--tun-port", "6080"], ["--tun-type", "-i"]),
        (["-a", "-t", "1.2.3.4:80", "-r", "10.0.0.5", "-i", "--tun-type", "gue"], ["gue", "--tun-port"]),
        (["-a", "-t", "1.2.3.4:80", "-r", "10.0.0.5", "-i", "--tun-port", "5"], ["--tun-port", "ipip"]),
        (["-a", "-t", "1.2.3.4:80", "-r", "10.0.0.5", "-i", "--tun-type", "gre", "--tun-remcsum"], ["--tun-remcsum", "gre"]),
        (["-a", "-t", "1.2.3.4:80", "-r", "10.0.0.5", "-i", "--tun-type", "gue", "--tun-port", "1", "--tun-csum", "--tun-nocsum"],
         ["--tun-csum conflicts with --tun-nocsum"]),
        (["-a", "-t", "1.2.3.4:80", "-r", "10.0.0.5", "-i", "--tun-type", "vxlan"], ["vxlan", "ipip, gue or gre"]),
        (["-a", "-t", "1.2.3.4:80", "-r", "10.0.0.5", "-w", "-1"], ["-w -1", "weight"]),
        (["-a", "-t", "1.2.3.4:80", "-r", "10.0.0.5", "-s", "rr"], ["-s (scheduler)", "-E"]),
        (["-d", "-t", "1.2.3.4:80", "-r", "10.0.0.5", "-m"], ["forwarding-method", "-d (delete-server)"]),
        (["-L", "-c", "--stats"], ["--stats", "-c (connection)"]),
        (["-L", "--timeout", "--daemon"], ["--daemon conflicts with --timeout"]),
        (["-L", "--daemon", "--persistent-conn"], ["--persistent-conn", "--daemon"]),
        (["-S", "-t", "1.2.3.4:80"], ["-S", "whole table"]),
        (["--set", "1", "2"], ["--set needs three timeouts"]),
        (["--set", "1", "2", "3", "4"], ["'4'", "exactly three"]),
        (["--set", "1", "2", "x"], ["udp", "x"]),
        (["-L", "foo"], ["unexpected argument 'foo'"]),
        (["--start-daemon", "primary"], ["primary", "master' or 'backup"]),
        (["--start-daemon", "master", "--mcast-group", "10.0.0.1"], ["10.0.0.1", "multicast"]),
        (["--start-daemon", "master", "--syncid", "256"], ["--syncid 256", "0 to 255"]),
        (["--stop-daemon", "master", "--mcast-interface", "eth0"], ["--mcast-interface", "--stop-daemon"]),
    ] as [([String], [String])])
    func rejects(_ args: [String], _ fragments: [String]) {
        do {
            _ = try IPVSAdmParser.parse(args)
            Issue.record("accepted \(args)")
        } catch {
            #expect(error.code == .badInput)
            for fragment in fragments {
                #expect(error.message.contains(fragment), "\(args): \(error.message)")
            }
        }
    }
}
