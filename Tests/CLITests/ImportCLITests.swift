import Foundation
import TestSupport
import Testing

/// `lvsh import`: the configuration on stdout, warnings on stderr, exit 2 with keepalived's FILE:LINE and
/// nothing on stdout for input that is not keepalived configuration. It reads files only (no namespace).
@Suite(.enabled(if: FileManager.default.isExecutableFile(atPath: CLILab.lvsh), "needs the lvsh binary (swift build)"))
struct ImportCLITests {
    static func file(_ name: String, _ text: String) throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("lvsh-import-\(getpid())")
        if (try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: false)) != nil { TemporaryFolders.remember(dir.path) }
        let path = dir.appendingPathComponent(name).path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test("keepalived: lvsh commands on stdout, one warning per directive not carried on stderr, exit 0")
    func keepalived() throws {
        let conf = try Self.file("ok.conf", """
            global_defs {
                router_id lb1
            }
            vrrp_instance VI_1 {
                interface eth0
            }
            virtual_server 10.0.0.1 80 {
                protocol TCP
                real_server 192.168.1.1 80 {
                    TCP_CHECK { connect_timeout 2 }
                }
            }
            """)
        let r = try CLILab.run([CLILab.lvsh, "import", "keepalived", conf, "--config-id", "lb1"])
        #expect(r.status == 0, "\(r)")
        #expect(r.out.contains("service tcp 10.0.0.1:80 scheduler wlc\n"), "\(r)")
        #expect(r.err.contains("\(conf):2: warning: `router_id lb1` is not carried"), "\(r)")
        #expect(r.err.contains("\(conf):4: warning: `vrrp_instance VI_1` is not carried"), "\(r)")
    }

    @Test("keepalived: bad input is exit 2 with FILE:LINE and nothing on stdout", arguments: [
        ("virtual_server 10.0.0.1 80 {\n  protocol TCP\n", ":1: the block of `virtual_server` is never closed"),
        ("virtual_server 10.0.0.1 80 {\n  protocol TCP\n  colour blue\n}\n", ":3: `colour blue`: not a virtual_server keyword"),
        ("include loop.conf\n", "include loop"),
    ])
    func bad(_ text: String, _ phrase: String) throws {
        // One file per case: the cases run in parallel.
        let conf = try Self.file(text.hasPrefix("include") ? "loop.conf" : "bad-\(text.utf8.count).conf", text)
        let r = try CLILab.run([CLILab.lvsh, "import", "keepalived", conf])
        #expect(r.status == 2, "\(r)")
        #expect(r.err.contains(phrase), "\(r)")
        #expect(r.out.isEmpty, "\(r)")
    }

    @Test("keepalived: a binary file and usage mistakes are exit 2")
    func binaryAndUsage() throws {
        for args in [["keepalived", CLILab.lvsh], ["keepalived"], ["keepalived", "/dev/null", "--bogus"], ["haproxy", "x"]] {
            let r = try CLILab.run([CLILab.lvsh, "import"] + args)
            #expect(r.status == 2, "\(args): \(r)")
            #expect(r.out.isEmpty, "\(args): \(r)")
        }
    }

    @Test("adopt: --help is exit 0 on stdout; an unknown argument or global option is exit 2, before any kernel read")
    func adoptUsage() throws {
        let help = try CLILab.run([CLILab.lvsh, "adopt", "--help"])
        #expect(help.status == 0 && help.out.hasPrefix("usage: lvsh [--backend nft|iptables] adopt [--take-over]"), "\(help)")
        for args in [["adopt", "--bogus"], ["adopt", "extra"], ["--config", "/nonexistent", "adopt"], ["--backend", "pf", "adopt"]] {
            let r = try CLILab.run([CLILab.lvsh] + args)
            #expect(r.status == 2, "\(args): \(r)")
            #expect(r.out.isEmpty, "\(args): \(r)")
            #expect(r.err.hasPrefix("lvsh adopt: "), "\(args): \(r)")
        }
    }

    @Test("ipvsadm: an -S dump on standard input becomes lvsh commands")
    func ipvsadm() throws {
        let r = try CLILab.run([CLILab.lvsh, "import", "ipvsadm"], input: "-A -f 5 -s rr\n-a -f 5 -r 10.0.1.2:0 -g -w 2\n")
        #expect(r.status == 0, "\(r)")
        #expect(r.out.contains("service fwmark 5 scheduler rr\nreal fwmark 5 10.0.1.2:0 dr weight 2\n"), "\(r)")
        let bad = try CLILab.run([CLILab.lvsh, "import", "ipvsadm", "-"], input: "-A -t 10.0.0.1:80 -s nosuch\n")
        #expect(bad.status == 2 && bad.out.isEmpty && bad.err.contains("<stdin>:1:"), "\(bad)")
    }
}
