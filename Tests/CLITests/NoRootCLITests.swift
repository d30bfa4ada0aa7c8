import Foundation
import Testing

/// lvsh run by an ordinary user (nobody, no capabilities) inside a namespace: every command that needs
/// the kernel or /run/lvsh says it needs root, exit 1; the others still work.
@Suite(.enabled(if: CLILab.available && CLILab.tool("setpriv") != nil, "needs root, ip, nft, setpriv and the lvsh binary"))
struct NoRootCLITests {
    static let asNobody = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]

    struct Case: CustomStringConvertible, Sendable {
        var args: [String]
        var input = ""
        var description: String { args.joined(separator: " ") }
    }

    static let needRoot: [Case] = [
        Case(args: ["show", "groups"]),
        Case(args: ["show", "groups", "--json"]),
        Case(args: ["show", "services"]),
        Case(args: ["show", "running-config"]),
        Case(args: ["group", "web", "vip", "192.0.2.1", "tcp", "80"]),
        Case(args: ["--backend", "iptables", "show", "groups"]),
        Case(args: ["--dry-run", "group", "web", "vip", "192.0.2.1", "tcp", "80"]),
        Case(args: ["apply", "/dev/null"]),
        Case(args: ["confirm"]),
        Case(args: ["-c", "help; show groups"]),
        Case(args: ["-f", "-"], input: "group web vip 192.0.2.1 tcp 80\n"),
        Case(args: [], input: "show services\n"),
        Case(args: ["ipvsadm", "-L", "-n"]),
        Case(args: ["ipvsadm", "-A", "-t", "192.0.2.1:80"]),
    ]

    @Test("commands that need the kernel say they need root, exit 1", arguments: needRoot)
    func needsRoot(_ c: Case) throws {
        let ns = try Netns()
        let r = try ns.run(Self.asNobody + [CLILab.lvsh] + c.args, input: c.input)
        #expect(r.status == 1, "\(r)")
        #expect(r.err.contains("needs root (CAP_NET_ADMIN)"), "\(r)")
        #expect(!r.err.contains("Permission denied") && !r.out.contains("no groups"), "\(r)")
    }

    @Test("commands that need nothing of root still work; bad input is still bad input")
    func withoutKernel() throws {
        let ns = try Netns()
        for (args, status) in [(["help"], Int32(0)), (["realserver", "script", "192.0.2.1"], 0), (["ipvsadm", "-h"], 0),
                               (["group", "x", "vip", "10.0.0.300", "tcp", "1"], 2)] {
            let r = try ns.run(Self.asNobody + [CLILab.lvsh] + args)
            #expect(r.status == status, "\(args): \(r)")
            #expect(!r.err.contains("needs root"), "\(args): \(r)")
        }
    }
}
