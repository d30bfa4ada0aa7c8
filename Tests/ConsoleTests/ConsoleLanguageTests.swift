import Console
import LVSModel
import Shell
import Testing

/// `?` and TAB over a small table, so the expected text is exact, and over the real catalog.
@Suite struct ConsoleLanguageTests {
    static let small = CommandTable<CommandAction>([
        Command(.sequence([.word("show", help: "show the kernel's state"), .word("groups", help: "the port groups")]),
                summary: "list the port groups", handler: .show { _, _ throws(LVSError) in "" }),
        Command(.sequence([.word("show", help: "show the kernel's state"), .word("services", help: "the IPVS services")]),
                summary: "list the services", handler: .show { _, _ throws(LVSError) in "" }),
        Command(.sequence([.word("no", help: "remove"), .word("group", help: "a port group"),
                           .value("name", .groupName, help: "an existing group")]),
                summary: "remove a group", handler: .change { _, _ throws(LVSError) in }),
        Command(.sequence([.word("service", help: "a virtual service"), .value("vip", .endpoint, help: "address and port"),
                           .option("scheduler", .scheduler, help: "how to pick a real server")]),
                summary: "a service", handler: .change { _, _ throws(LVSError) in }),
    ])

    static var live: LiveValues {
        LiveValues(
        groups: { [(name: "webfarm", mark: 1000), (name: "web2", mark: 1001), (name: "mail", mark: 1002)] },
        services: {
            [LiveService(key: .inet(.tcp, IPAddress("10.0.0.1")!, 80),
                         realServers: [RealServerKey(address: IPAddress("192.168.1.10")!, port: 80)]),
             LiveService(key: .inet(.udp, IPAddress("10.0.0.1")!, 53), realServers: []),
             LiveService(key: .fwmark(1000, .v4), realServers: [RealServerKey(address: IPAddress("192.168.1.20")!, port: 443)]),
             LiveService(key: .inet(.tcp, IPAddress("2001:db8::1")!, 443),
                         realServers: [RealServerKey(address: IPAddress("2001:db8::10")!, port: 443)])]
        },
        schedulers: { ["rr", "wlc", "wrr"] }, interfaces: { ["eth0", "lo"] }, sysctls: { ["conntrack", "net.ipv4.vs.conntrack"] })
    }

    let small = ConsoleLanguage(table: ConsoleLanguageTests.small, live: ConsoleLanguageTests.live)
    let catalog = ConsoleLanguage(live: ConsoleLanguageTests.live)

    @Test func questionMarkListsTheNextWordsWithHelp() {
        #expect(small.help(for: LineWords("")) == """
              show     show the kernel's state
              no       remove
              service  a virtual service

            """)
        #expect(small.help(for: LineWords("show ")) == """
              groups    the port groups
              services  the IPVS services

            """)
        // A whole command: run it, or filter its output.
        #expect(small.help(for: LineWords("sh gr ")) == """
              <cr>  run the command
              |     filter the output: include, exclude, begin, count, no-more

            """)
        #expect(small.help(for: LineWords("no group ")) == "  GROUP  an existing group\n")
    }

    @Test func questionMarkAfterAPartialWordListsTheWordsItStarts() {
        #expect(small.help(for: LineWords("show g")) == "  groups  the port groups\n")
        #expect(small.help(for: LineWords("show x")) == """
            % nothing here starts with 'x'; expected:
              groups    the port groups
              services  the IPVS services

            """)
        #expect(small.help(for: LineWords("bogus ")).hasPrefix("% unknown command 'bogus'"))
    }

    @Test func questionMarkAfterThePipe() {
        #expect(small.help(for: LineWords("show groups | ")) == """
              include  keep the lines that match
              exclude  drop the lines that match
              begin    start at the first line that matches
              count    count the lines
              no-more  print without the console's pager

            """)
        #expect(small.help(for: LineWords("show groups | inc ")) == "  REGEX  a regular expression (Swift Regex syntax)\n")
        // A whole filter: run, or filter again.
        #expect(small.help(for: LineWords("show groups | include x ")) == """
              <cr>  run the command
              |     filter the output: include, exclude, begin, count, no-more

            """)
        #expect(small.help(for: LineWords("show groups | count | ")).contains("  no-more  "))
        // Inside a regular expression, in quotes or in a comment, `?` is just a character.
        #expect(small.takesQuestionMarkLiterally(LineWords("show groups | include colou")))
        #expect(small.takesQuestionMarkLiterally(LineWords("no group 'a")))
        #expect(small.takesQuestionMarkLiterally(LineWords("show # why")))
        #expect(!small.takesQuestionMarkLiterally(LineWords("show groups | include ")))
        #expect(!small.takesQuestionMarkLiterally(LineWords("show gr")))
    }

    @Test func tabCompletesKeywordsAndLiveValues() {
        #expect(small.completions(for: LineWords("show gr")) == ["groups"])
        #expect(small.completions(for: LineWords("sh ")) == ["groups", "services"])
        #expect(small.completions(for: LineWords("no group web")) == ["web2", "webfarm"])
        #expect(small.completions(for: LineWords("no group \"ma")) == ["mail"])
        #expect(small.completions(for: LineWords("service 10.0.0.1:80 scheduler w")) == ["wlc", "wrr"])
        #expect(small.completions(for: LineWords("show groups | ")) == ["begin", "count", "exclude", "include", "no-more"])
        #expect(small.completions(for: LineWords("show groups | e")) == ["exclude"])
        #expect(small.completions(for: LineWords("show groups | include x ")) == ["|"])
        #expect(small.completions(for: LineWords("show groups | count | n")) == ["no-more"])
        #expect(small.completions(for: LineWords("show groups ")) == ["|"])
        #expect(small.completions(for: LineWords("show # gr")) == [])
    }

    @Test func tabInsertsTheWholeWordOrTheCommonPrefix() {
        let one = LineWords("show gr")
        #expect(ConsoleLanguage.insertion(for: one, candidates: ["groups"]) == "groups ")
        let two = LineWords("no group w")
        #expect(ConsoleLanguage.insertion(for: two, candidates: ["web2", "webfarm"]) == "web")
        // Nothing more in common: the candidates are listed instead.
        #expect(ConsoleLanguage.insertion(for: LineWords("no group web"), candidates: ["web2", "webfarm"]) == nil)
        #expect(ConsoleLanguage.insertion(for: LineWords("x "), candidates: ["a b"]) == "'a b' ")
        #expect(ConsoleLanguage.columns(["web2", "webfarm", "mail"], width: 20) == "web2     webfarm\nmail\n")
    }

    @Test func liveValuesFollowTheWordsBefore() {
        let live = ConsoleLanguageTests.live
        #expect(live.values(.endpoint, after: ["service", "tcp"]) == ["10.0.0.1:80", "[2001:db8::1]:443"])
        #expect(live.values(.endpoint, after: ["service", "u"]) == ["10.0.0.1:53"])
        #expect(live.values(.realServer, after: ["no", "real", "tcp", "10.0.0.1:80"]) == ["192.168.1.10:80"])
        #expect(live.values(.realServer, after: ["no", "real", "webfarm"]) == ["192.168.1.20:443"])
        #expect(live.values(.realServer, after: ["no", "real", "fwmark", "1000"]) == ["192.168.1.20:443"])
        #expect(live.values(.realServer, after: ["no", "real", "fwmark", "1000", "ipv6"]) == [])
        #expect(live.values(.realServer, after: ["no", "real", "fwmark", "7"]) == [])
        // Words that name no service lvsh can tell: every real server.
        #expect(live.values(.realServer, after: ["no", "real", "nosuchgroup"]).count == 3)
    }

    @Test func theCatalogAnswersTheConsoleKeys() {
        let show = catalog.help(for: LineWords("show "))
        for word in ["services", "groups", "rules"] {
            #expect(show.contains("\n  \(word) ") || show.hasPrefix("  \(word) "), "show ? lists \(word)")
        }
        #expect(catalog.completions(for: LineWords("show gr")) == ["groups"])
        #expect(catalog.completions(for: LineWords("no group web")) == ["web2", "webfarm"])
        #expect(catalog.completions(for: LineWords("sh serv")) == ["services"])
        #expect(catalog.completions(for: LineWords("real web")) == ["web2", "webfarm"])
        #expect(catalog.completions(for: LineWords("show services | i")) == ["include"])
    }
}
