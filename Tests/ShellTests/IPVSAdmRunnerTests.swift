import Testing
import IPVS
import LVSModel
@testable import Shell
import IPVSAdm

/// `runIPVSAdm` end to end against FakeIPVS: exit codes, kernel refusals explained, -R atomic.
@Suite struct IPVSAdmRunnerTests {
    struct Result {
        var code: Int32
        var out: String
        var err: String
    }

    @discardableResult
    static func run(_ fake: FakeIPVS, _ args: [String], stdin: String = "",
                    connections: @escaping () throws(LVSError) -> [Connection] = { [] }) -> Result {
        var out = "", err = ""
        let code = runIPVSAdm(args, control: fake, stdin: { stdin }, out: { out += $0 }, err: { err += $0 }, readConnections: connections)
        return Result(code: code, out: out, err: err)
    }

    static func words(_ line: String) -> [String] { line.split(separator: " ").map(String.init) }

    /// A fake kernel with TCP 192.168.61.129:80 and one NAT real server on port 80.
    static func natService() -> FakeIPVS {
        let fake = FakeIPVS()
        #expect(run(fake, words("-A -t 192.168.61.129:80 -s rr")).code == 0)
        #expect(run(fake, words("-a -t 192.168.61.129:80 -r 192.168.147.129 -m")).code == 0)
        return fake
    }

    @Test func editCannotChangeThePort() {
        let fake = Self.natService()
        let r = Self.run(fake, Self.words("-e -t 192.168.61.129:80 -r 192.168.147.129:8080 -m"))
        #expect(r.code == 1)
        #expect(r.err.contains("real server 192.168.147.129:8080 is not in service TCP 192.168.61.129:80"))
        #expect(r.err.contains("identified by its address and port, so -e cannot change the port"))
        #expect(r.err.contains("this service has 192.168.147.129 as 192.168.147.129:80"))
        #expect(r.err.contains("ipvsadm -d -t 192.168.61.129:80 -r 192.168.147.129:80\n"))
        #expect(r.err.contains("ipvsadm -a -t 192.168.61.129:80 -r 192.168.147.129:8080 -m -w 1\n"))
        // Following the advice works.
        #expect(Self.run(fake, Self.words("-d -t 192.168.61.129:80 -r 192.168.147.129:80")).code == 0)
        #expect(Self.run(fake, Self.words("-a -t 192.168.61.129:80 -r 192.168.147.129:8080 -m -w 1")).code == 0)
        #expect(fake.saved == "-A -t 192.168.61.129:80 -s rr\n-a -t 192.168.61.129:80 -r 192.168.147.129:8080 -m -w 1\n")
    }

    @Test func editOfAnUnknownRealServerSaysToAddIt() {
        let fake = Self.natService()
        let r = Self.run(fake, Self.words("-e -t 192.168.61.129:80 -r 10.9.9.9 -m"))
        #expect(r.code == 1)
        #expect(r.err.contains("real server 10.9.9.9:80 is not in service TCP 192.168.61.129:80"))
        #expect(r.err.contains("add it with -a"))
    }

    @Test func unknownScheduler() {
        let r = Self.run(FakeIPVS(), Self.words("-A -t 10.0.0.1:80 -s xyz"))
        #expect(r.code == 1)
        #expect(r.err.hasPrefix("scheduler 'xyz' is not available: the kernel module ip_vs_xyz is not loaded or does not exist"))
    }

    @Test func missingPersistenceEngine() {
        let fake = FakeIPVS()
        fake.persistenceEngines = []
        let r = Self.run(fake, Self.words("-A -u 10.0.0.1:5060 -p --pe sip"))
        #expect(r.code == 1)
        #expect(r.err.contains("persistence engine 'sip' is not available: the kernel module ip_vs_pe_sip"))
    }

    @Test func serviceExistsAndServiceMissing() {
        let fake = Self.natService()
        let exists = Self.run(fake, Self.words("-A -t 192.168.61.129:80"))
        #expect(exists.code == 1)
        #expect(exists.err.contains("service TCP 192.168.61.129:80 already exists; change it with -E"))
        for line in ["-E -t 10.0.0.1:80 -s rr", "-D -t 10.0.0.1:80", "-a -t 10.0.0.1:80 -r 10.0.0.2", "-Z -t 10.0.0.1:80",
                     "-d -t 10.0.0.1:80 -r 10.0.0.2"] {
            let r = Self.run(fake, Self.words(line))
            #expect(r.code == 1, "\(line)")
            #expect(r.err.contains("service TCP 10.0.0.1:80 does not exist"), "\(line): \(r.err)")
        }
        let duplicate = Self.run(fake, Self.words("-a -t 192.168.61.129:80 -r 192.168.147.129 -m"))
        #expect(duplicate.err.contains("already in service TCP 192.168.61.129:80; change it with -e"))
    }

    @Test func deleteOfTheWrongPortNamesTheRightOne() {
        let fake = Self.natService()
        let r = Self.run(fake, Self.words("-d -t 192.168.61.129:80 -r 192.168.147.129:8080"))
        #expect(r.code == 1)
        #expect(r.err.contains("delete that with -r 192.168.147.129:80"))
    }

    @Test func thresholdsTheKernelRefuses() {
        let fake = Self.natService()
        let r = Self.run(fake, Self.words("-a -t 192.168.61.129:80 -r 10.0.0.7 -m -y 50"))
        #expect(r.code == 1)
        #expect(r.err.contains("lower threshold (-y 50) is above the upper threshold (-x 0)"))
    }

    @Test func nonUnicastRealServer() {
        let fake = Self.natService()
        let r = Self.run(fake, Self.words("-a -t 192.168.61.129:80 -r 0.0.0.0 -m"))
        #expect(r.code == 1)
        #expect(r.err.contains("unicast"))
    }

    @Test func syncDaemons() {
        let fake = FakeIPVS()
        #expect(Self.run(fake, Self.words("--start-daemon master --syncid 3")).code == 0)
        let again = Self.run(fake, Self.words("--start-daemon master"))
        #expect(again.code == 1)
        #expect(again.err.contains("master sync daemon is already running; stop it first with --stop-daemon master"))
        let noDevice = Self.run(fake, Self.words("--start-daemon backup --mcast-interface eth9"))
        #expect(noDevice.err.contains("interface 'eth9' does not exist"))
        #expect(Self.run(fake, Self.words("-L --daemon")).out == "master sync daemon (mcast=eth0, syncid=3)\n")
        let stop = Self.run(fake, Self.words("--stop-daemon backup"))
        #expect(stop.code == 1)
        #expect(stop.err.contains("no backup sync daemon is running"))
        #expect(Self.run(fake, Self.words("--stop-daemon master")).code == 0)
        #expect(Self.run(fake, Self.words("-L --daemon")).out == "")
    }

    @Test func ipvsMissingAndPermissionDenied() {
        let fake = FakeIPVS()
        fake.connectionError = LVSError(.failed, "cannot connect to IPVS: generic netlink family IPVS not found", errno: 2)
        let missing = Self.run(fake, Self.words("-L -n"))
        #expect(missing.code == 1)
        #expect(missing.err.contains("modprobe ip_vs"))
        fake.connectionError = LVSError(.failed, "cannot read the services: Operation not permitted", errno: 1)
        let denied = Self.run(fake, Self.words("-A -t 10.0.0.1:80"))
        #expect(denied.code == 1)
        #expect(denied.err.contains("CAP_NET_ADMIN"))
        fake.connectionError = nil
        fake.refuse = { _ in 1 }
        let refused = Self.run(fake, Self.words("-C"))
        #expect(refused.code == 1)
        #expect(refused.err.contains("permission denied"))
    }

    @Test func exitCodes() {
        let fake = Self.natService()
        #expect(Self.run(fake, Self.words("-A -t")).code == 2)
        #expect(Self.run(fake, Self.words("-L -n -t 10.0.0.1:80")).code == 1)
        #expect(Self.run(fake, Self.words("-L -n -t 10.0.0.1:80")).err.contains("does not exist"))
        let help = Self.run(fake, ["-h"])
        #expect(help.code == 0 && help.out.contains("Usage:\n  ipvsadm -A|E virtual-service"))
        #expect(Self.run(fake, ["-v"]).out.hasPrefix("ipvsadm v1.31 2019/12/24"))
        let conns = Self.run(fake, Self.words("-L -n -c"), connections: { () throws(LVSError) in throw .failed("cannot read /proc/net/ip_vs_conn") })
        #expect(conns.code == 1 && conns.err.contains("ip_vs_conn"))
        #expect(fake.batches.count == 2, "parse errors and listings reach no kernel")
    }

    @Test func warningsForWhatIPVSAdmDoesSilently() {
        let fake = Self.natService()
        let dr = Self.run(fake, Self.words("-a -t 192.168.61.129:80 -r 10.0.0.9:8080"))
        #expect(dr.code == 0)
        #expect(dr.err == "warning: -r 10.0.0.9:8080: direct routing cannot change the port, so the real server gets the service's port 80 (use -m, NAT, to map ports)\n")
        #expect(Self.run(fake, Self.words("-E -t 192.168.61.129:80 -s sh -b sh-port -p 60")).err == "")
        let reset = Self.run(fake, Self.words("-E -t 192.168.61.129:80"))
        #expect(reset.code == 0)
        #expect(reset.err.contains("turns off persistence (-p 60), the scheduler flags (-b sh-port), the scheduler sh"))
        #expect(Self.run(fake, Self.words("-A -t 10.0.0.1:80 -M 255.255.255.0")).err.contains("-M has no effect without -p"))
    }

    @Test func parseErrorsApplyNothing() {
        let fake = FakeIPVS()
        let r = Self.run(fake, Self.words("-A -t 10.0.0.1:80 -r 10.0.0.2"))
        #expect(r.code == 2)
        #expect(fake.batches.isEmpty)
    }

    @Test func listingAfterChanges() {
        let fake = Self.natService()
        #expect(Self.run(fake, Self.words("--set 10 20 30")).code == 0)
        #expect(Self.run(fake, Self.words("-L --timeout")).out == "Timeout (tcp tcpfin udp): 10 20 30\n")
        #expect(Self.run(fake, Self.words("--set 0 0 5")).code == 0)
        #expect(Self.run(fake, Self.words("-L --timeout")).out == "Timeout (tcp tcpfin udp): 10 20 5\n")
        let listing = Self.run(fake, Self.words("-L -n")).out
        #expect(listing == """
            IP Virtual Server version 1.2.1 (size=4096)
            Prot LocalAddress:Port Scheduler Flags
              -> RemoteAddress:Port           Forward Weight ActiveConn InActConn
            TCP  192.168.61.129:80 rr
              -> 192.168.147.129:80           Masq    1      0          0         \n
            """)
        #expect(Self.run(fake, ["-C"]).code == 0)
        #expect(Self.run(fake, Self.words("-S -n")).out == "")
    }
}

/// `-R`: everything is checked first, applied in one batch, undone if the kernel refuses.
@Suite struct IPVSAdmRestoreTests {
    typealias R = IPVSAdmRunnerTests

    static let rules = """
        # web farm
        ipvsadm -A -t 192.168.61.129:80 -s rr
        -a -t 192.168.61.129:80 -r 192.168.147.129:80 -m -w 1

        -a -t 192.168.61.129:80 -r 192.168.147.130:80 -m -w 2   # second
        -A -f 1000 -s wlc -p 300 -M 255.255.255.0
        -a -f 1000 -r 10.1.1.1:0 -i -w 2 --tun-type gue --tun-port 6080 --tun-csum
        --set 900 120 300
        """

    @Test func appliesAllLinesInOneBatch() {
        let fake = FakeIPVS()
        let r = R.run(fake, ["-R"], stdin: Self.rules)
        #expect(r.code == 0, "\(r.err)")
        #expect(fake.batches.count == 1)
        #expect(fake.batches.first?.count == 6)
        #expect(fake.saved == """
            -A -t 192.168.61.129:80 -s rr
            -a -t 192.168.61.129:80 -r 192.168.147.129:80 -m -w 1
            -a -t 192.168.61.129:80 -r 192.168.147.130:80 -m -w 2
            -A -f 1000 -s wlc -p 300 -M 255.255.255.0
            -a -f 1000 -r 10.1.1.1:0 -i -w 2 --tun-type gue --tun-port 6080 --tun-csum\n
            """)
    }

    @Test func aBadLineAppliesNothing() {
        let fake = FakeIPVS()
        let input = Self.rules + "\n-a -t 192.168.61.129:80 -r 10.0.0.9 -s rr\n"
        let r = R.run(fake, ["-R"], stdin: input)
        #expect(r.code == 2)
        #expect(r.err.contains("-R line 9 (-a -t 192.168.61.129:80 -r 10.0.0.9 -s rr): -s (scheduler) cannot be used with -a (add-server)"))
        #expect(r.err.contains("nothing was applied"))
        #expect(fake.batches.isEmpty)
    }

    @Test func lineProblemsAgainstTheKernelTableApplyNothing() {
        let fake = IPVSAdmRunnerTests.natService()
        let before = fake.saved
        for (input, fragment) in [
            ("-A -t 10.0.0.1:80\n-A -t 192.168.61.129:80 -s wrr", "-R line 2 (-A -t 192.168.61.129:80 -s wrr): service TCP 192.168.61.129:80 already exists"),
            ("-A -t 10.0.0.1:80\n-A -t 10.0.0.1:80", "-R line 2"),
            ("-a -t 10.0.0.2:80 -r 10.0.0.3", "does not exist"),
            ("-e -t 192.168.61.129:80 -r 192.168.147.129:8080 -m", "-e cannot change the port"),
            ("-A -t 10.0.0.1:80 -s xyz", "scheduler 'xyz' is not available"),
            ("--stop-daemon master", "no master sync daemon is running"),
            ("-L -n", "cannot be part of -R input"),
            ("-R", "cannot be part of -R input"),
        ] {
            let r = R.run(fake, ["-R"], stdin: input)
            #expect(r.code == 2, "\(input)")
            #expect(r.err.contains(fragment), "\(input): \(r.err)")
        }
        #expect(fake.saved == before)
        #expect(fake.batches.count == 2, "only natService's own commands reached the kernel")
    }

    @Test func laterLinesMaySeeEarlierOnes() {
        let fake = FakeIPVS()
        let input = "-A -t 10.0.0.1:80\n-a -t 10.0.0.1:80 -r 10.0.0.2\n-e -t 10.0.0.1:80 -r 10.0.0.2 -w 5\n-D -t 10.0.0.1:80\n-A -t 10.0.0.1:80 -s rr"
        let r = R.run(fake, ["-R"], stdin: input)
        #expect(r.code == 0, "\(r.err)")
        #expect(fake.saved == "-A -t 10.0.0.1:80 -s rr\n")
    }

    @Test func aKernelRefusalIsUndone() {
        let fake = IPVSAdmRunnerTests.natService()
        #expect(R.run(fake, R.words("--set 100 200 300")).code == 0)
        let before = fake.saved
        // The kernel refuses the last line although lvsh's checks pass (a module that fails to load).
        fake.refuse = { op in
            if case .addService(let s) = op, s.scheduler == "lblc" { return 2 }
            return nil
        }
        let input = """
            -a -t 192.168.61.129:80 -r 192.168.147.140 -m
            -e -t 192.168.61.129:80 -r 192.168.147.129 -m -w 7
            -E -t 192.168.61.129:80 -s wrr
            --set 1 2 3
            -C
            -A -t 10.0.0.1:80 -s lblc
            """
        let r = R.run(fake, ["-R"], stdin: input)
        #expect(r.code == 1)
        #expect(r.err.contains("-R line 6 (-A -t 10.0.0.1:80 -s lblc): scheduler 'lblc' is not available"))
        #expect(r.err.contains("undone; nothing was changed"))
        #expect(fake.saved == before)
        #expect(R.run(fake, R.words("-L --timeout")).out == "Timeout (tcp tcpfin udp): 100 200 300\n")
        #expect(fake.batches.count == 5, "the input, then its undo, each in one batch")
    }

    @Test func stoppedDaemonsAreRestartedOnUndo() {
        let fake = FakeIPVS()
        #expect(R.run(fake, R.words("--start-daemon backup --syncid 9")).code == 0)
        fake.refuse = { op in if case .flush = op { 22 } else { nil } }
        let r = R.run(fake, ["-R"], stdin: "--stop-daemon backup\n-C")
        #expect(r.code == 1)
        #expect(fake.runningDaemons == [SyncDaemon(role: .backup, interface: "eth0", syncID: 9)])
    }

    @Test func emptyInputDoesNothing() {
        let fake = FakeIPVS()
        #expect(R.run(fake, ["-R"], stdin: "\n# nothing\n   \n").code == 0)
        #expect(fake.batches.isEmpty)
    }
}
