import Foundation
import Testing

/// The outer command line's mistakes: lvsh's own message and exit 2 (never swift-argument-parser's 64).
@Suite(.enabled(if: CLILab.available, "needs root, ip, nft and the lvsh binary (swift build)"))
struct UsageCLITests {
    struct Case: CustomStringConvertible, Sendable {
        var args: [String]
        /// Phrases stderr must contain.
        var phrases: [String]
        var description: String { args.joined(separator: " ") }
    }

    static let cases: [Case] = [
        Case(args: ["--bogus"], phrases: ["lvsh: unknown option '--bogus'", "usage: lvsh"]),
        Case(args: ["--bogus", "show", "groups"], phrases: ["lvsh: unknown option '--bogus'"]),
        Case(args: ["-f"], phrases: ["lvsh: -f needs a value: a batch file"]),
        Case(args: ["-c"], phrases: ["lvsh: -c needs a value"]),
        Case(args: ["--backend"], phrases: ["lvsh: --backend needs a value: nft or iptables"]),
        Case(args: ["--config"], phrases: ["lvsh: --config needs a value"]),
        Case(args: ["--backend", "--json", "show", "groups"], phrases: ["lvsh: --backend needs a value"]),
        Case(args: ["--backend", "foo", "show", "groups"], phrases: ["lvsh: --backend must be nft or iptables, not 'foo'"]),
        Case(args: ["--drain", "x", "apply", "/dev/null"], phrases: ["lvsh: --drain takes a whole number of seconds, not 'x'"]),
        Case(args: ["-c", "show groups", "-f", "/dev/null"], phrases: ["lvsh: give -c or -f, not both"]),
        Case(args: ["--bogus", "ipvsadm", "-L", "-n"], phrases: ["lvsh: unknown option '--bogus'"]),
    ]

    @Test("usage errors: lvsh's message, exit 2", arguments: cases)
    func usage(_ c: Case) throws {
        let ns = try Netns()
        let r = try ns.run([CLILab.lvsh] + c.args)
        #expect(r.status == 2, "\(r)")
        for phrase in c.phrases { #expect(r.err.contains(phrase), "missing \"\(phrase)\" in\n\(r.err)") }
        #expect(!r.err.contains("Error:"), "\(r)")
        #expect(r.out.isEmpty, "\(r)")
    }

    @Test("a malformed settings file (--config) is bad input: exit 2 with FILE:LINE, whichever parser reads the command line")
    func malformedSettings() throws {
        let ns = try Netns()
        let conf = try ns.file("lvsh.conf", "set backend nft\nbackend = nft\n")
        for args in [["--config", conf, "show", "groups"], ["--config", conf, "-c", "show groups"],
                     ["--config", conf, "--json", "show", "groups"]] {
            let r = try ns.run([CLILab.lvsh] + args)
            #expect(r.status == 2, "\(args): \(r)")
            #expect(r.err.contains("\(conf):2: expected `set NAME VALUE`, got `backend = nft`"), "\(args): \(r)")
            #expect(!r.err.contains("Error:") && !r.err.contains("usage:"), "\(args): \(r)")
        }
    }

    @Test("--help still prints the help and exits 0")
    func help() throws {
        let ns = try Netns()
        let r = try ns.lvsh("--help")
        #expect(r.status == 0, "\(r)")
        #expect(r.out.contains("--backend"), "\(r)")
    }
}

/// `quit` ends a batch from standard input, -f or -c: what follows is not run.
@Suite(.enabled(if: CLILab.available, "needs root, ip, nft and the lvsh binary (swift build)"))
struct QuitCLITests {
    @Test("quit ends a stdin batch")
    func quitEndsTheBatch() throws {
        let ns = try Netns()
        let r = try ns.lvsh(input: "group a vip 192.0.2.1 tcp 80\nquit\ngroup b vip 192.0.2.2 tcp 81\n")
        #expect(r.status == 0, "\(r)")
        #expect(try ns.lvsh("show", "groups", "--json").out.contains("\"name\":\"a\""))
        #expect(try !ns.lvsh("show", "groups", "--json").out.contains("\"name\":\"b\""))
        let c = try ns.lvsh("-c", "group c vip 192.0.2.3 tcp 82; exit; group d vip 192.0.2.4 tcp 83")
        #expect(c.status == 0, "\(c)")
        let names = try ns.lvsh("show", "groups", "--json").out
        #expect(names.contains("\"name\":\"c\"") && !names.contains("\"name\":\"d\""), "\(names)")
    }
}
