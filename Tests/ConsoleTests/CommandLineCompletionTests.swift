import Console
import LVSModel
import Shell
import Testing

/// `lvsh __complete`: the outer options and their values, then the console's completion of the language
/// with the same live values, and the grammar of daemon, import and adopt.
@Suite struct CommandLineCompletionTests {
    static var completion: CommandLineCompletion { CommandLineCompletion(language: ConsoleLanguage(live: LiveValues(
        groups: { [(name: "web", mark: 1000), (name: "mail", mark: 1001)] },
        services: {
            [LiveService(key: .fwmark(1000, .v4), realServers: [RealServerKey(address: IPAddress("10.1.0.11")!, port: 8080),
                                                               RealServerKey(address: IPAddress("10.1.0.12")!, port: 8080)]),
             LiveService(key: .inet(.tcp, IPAddress("192.0.2.10")!, 80), realServers: [RealServerKey(address: IPAddress("10.1.0.20")!, port: 80)])]
        }))) }

    func complete(_ args: String...) -> (candidates: [String], files: Bool) { Self.completion.complete(args) }

    @Test("the real servers of the group's service, after the outer options")
    func liveRealServers() {
        #expect(complete("real", "web", "").candidates == ["10.1.0.11:8080", "10.1.0.12:8080"])
        #expect(complete("--backend", "iptables", "real", "web", "10.1.0.12").candidates == ["10.1.0.12:8080"])
        // (the grammar also reads `tcp` as a group's name, so the options of `real GROUP ADDRESS` come too)
        let tcp = complete("real", "tcp", "192.0.2.10:80", "").candidates
        #expect(tcp.contains("10.1.0.20:80") && !tcp.contains("10.1.0.11:8080"), "\(tcp)")
        #expect(complete("--json", "no", "group", "").candidates == ["mail", "web"])
    }

    @Test("first words: the language's commands and daemon, import, adopt; options after a dash")
    func firstWords() {
        let first = complete("").candidates
        for w in ["group", "service", "real", "show", "apply", "ipvsadm", "daemon", "import", "adopt"] { #expect(first.contains(w), "\(w)") }
        #expect(!first.contains("|"))
        #expect(complete("--b").candidates == ["--backend"])
        #expect(complete("--backend", "").candidates == ["nft", "iptables"])
        #expect(complete("--config", "").files)
        #expect(complete("-f", "x.lvsh", "").candidates.allSatisfy { $0.hasPrefix("-") })
    }

    @Test("files where a FILE stands; options that may follow the words; none inside ipvsadm")
    func filesAndTrailingOptions() {
        #expect(complete("apply", "").files)
        #expect(complete("apply", "").candidates.isEmpty)
        #expect(complete("apply", "site.lvsh", "--dr").candidates == ["--drain", "--dry-run"])
        #expect(complete("apply", "site.lvsh", "--drain", "").candidates.isEmpty)
        #expect(complete("show", "services", "--json", "").candidates.contains("stats"))
        #expect(!complete("show", "").files)
        #expect(complete("ipvsadm", "-").candidates.isEmpty)
    }

    @Test("daemon, import and adopt from their grammar")
    func outerCommands() {
        #expect(complete("import", "").candidates == ["ipvsadm", "keepalived"])
        #expect(complete("import", "keepalived", "").files)
        #expect(complete("import", "keepalived", "k.conf", "--g").candidates == ["--groups"])
        #expect(complete("adopt", "").candidates == ["--take-over"])
        #expect(complete("daemon", "").files)
    }

    @Test("the output: a candidate a line, then :files")
    func output() {
        #expect(Self.completion.output(["no", "group", "w"]) == "web\n")
        #expect(Self.completion.output(["save", ""]) == ":files\n")
    }
}
