import Foundation
import Testing

/// `lvsh --version`, `--help` and `__complete` as the shell and users call them.
@Suite(.enabled(if: CLILab.available, "needs root, ip, nft and the lvsh binary (swift build)"))
struct OuterCLITests {
    @Test("--version: lvsh's version, the commit it was built from, and the IPVS line (this kernel has none); exit 0")
    func version() throws {
        let ns = try Netns()
        let head = try CLILab.run(["git", "-C", URL(fileURLWithPath: #filePath).deletingLastPathComponent().path,
                                   "rev-parse", "--short=12", "HEAD"]).out.trimmingCharacters(in: .whitespacesAndNewlines)
        for args in [["--version"], ["--backend", "nft", "--version"]] {
            let r = try ns.run([CLILab.lvsh] + args)
            #expect(r.status == 0, "\(args): \(r)")
            let lines = r.out.split(separator: "\n").map(String.init)
            #expect(lines.count == 2, "\(r)")
            #expect(lines.first?.hasPrefix("lvsh ") == true && lines.first?.contains(" (commit ") == true, "\(r)")
            // A build of this checkout names its HEAD (the plugin's inputs follow HEAD and the ref).
            if !head.isEmpty { #expect(lines.first?.hasSuffix("(commit \(head))") == true, "\(r) at \(head)") }
            #expect(lines.last == "IPVS not available in this kernel", "\(r)")
        }
    }

    @Test("--version as an ordinary user: exit 0, never an error", .enabled(if: CLILab.tool("setpriv") != nil))
    func versionWithoutRoot() throws {
        let ns = try Netns()
        let r = try ns.run(NoRootCLITests.asNobody + [CLILab.lvsh, "--version"])
        #expect(r.status == 0 && r.err.isEmpty, "\(r)")
        #expect(r.out.contains("\nIPVS "), "\(r)")
    }

    @Test("--help: the options, every command's leading words and the examples, exit 0; also after the words")
    func help() throws {
        let ns = try Netns()
        for args in [["--help"], ["-h"], ["show", "groups", "--help"]] {
            let r = try ns.run([CLILab.lvsh] + args)
            #expect(r.status == 0, "\(args): \(r)")
            for phrase in ["--backend nft|iptables", "--exit-code", "  group GROUP add", "  show services", "  realserver prepare ADDRESS",
                           "lvsh import keepalived FILE", "Examples:", "lvsh show services --json", "Exit codes: 0 success"] {
                #expect(r.out.contains(phrase), "\(args): missing \(phrase) in\n\(r.out)")
            }
        }
        // `-c`'s text is not an option of lvsh's.
        #expect(try ns.lvsh("-c", "--help").status == 2)
    }

    @Test("__complete reads the namespace's kernel: groups lvsh made there, nothing from another namespace")
    func completeLiveGroups() throws {
        let ns = try Netns()
        let conf = try ns.file("lvsh.conf", "set backend nft\n")
        #expect(try ns.lvsh("--config", conf, "-c", "group web vip 192.0.2.1 tcp 80; group mail vip 192.0.2.2 tcp 25").status == 0)
        #expect(try ns.lvsh("__complete", "--config", conf, "no", "group", "").out == "mail\nweb\n")
        #expect(try ns.lvsh("__complete", "no", "group", "w").out == "web\n")
        #expect(try ns.lvsh("__complete", "save", "").out == ":files\n")
        let other = try Netns()
        #expect(try other.lvsh("__complete", "no", "group", "").out == "")
    }

    @Test("zsh: the generated _lvsh hands the words to `lvsh __complete` and offers its answer; files where a FILE stands",
          .enabled(if: CLILab.tool("zsh") != nil))
    func zshCompletion() throws {
        let ns = try Netns()
        let conf = try ns.file("lvsh.conf", "set backend nft\n")
        #expect(try ns.lvsh("--config", conf, "-c", "group web vip 192.0.2.1 tcp 80; group mail vip 192.0.2.2 tcp 25").status == 0)
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("tools/packaging/generated/_lvsh").path
        let bin = URL(fileURLWithPath: CLILab.lvsh).deletingLastPathComponent().path
        // Outside a completion widget: compadd and _files print what they are given.
        func complete(_ words: String) throws -> String {
            try ns.run(["zsh", "-f", "-c", """
                compadd() { [[ $1 == -- ]] && shift; print -l -- "$@"; }
                _files() { print FILES; }
                compdef() { :; }
                PATH=\(bin):$PATH
                source \(script)
                words=(\(words)); CURRENT=${#words}
                _lvsh
                """]).out
        }
        #expect(try complete("lvsh --config \(conf) no group ''") == "mail\nweb\n")
        #expect(try complete("lvsh no group w") == "web\n")
        #expect(try complete("lvsh save ''") == "FILES\n")
    }

    @Test("__generate: the manual page and completion scripts; anything else is a usage error")
    func generate() throws {
        #expect(try CLILab.run([CLILab.lvsh, "__generate", "man"]).out.hasPrefix(".\\\" Generated by `lvsh __generate man`"))
        #expect(try CLILab.run([CLILab.lvsh, "__generate", "bash"]).out.contains("complete -F _lvsh lvsh"))
        #expect(try CLILab.run([CLILab.lvsh, "__generate", "zsh"]).out.hasPrefix("#compdef lvsh"))
        #expect(try CLILab.run([CLILab.lvsh, "__generate", "html"]).status == 2)
    }
}
