import LVSModel
@testable import Shell
import Testing

/// vtysh's rule for abbreviations, `?` listing each word once, `help` by forms and topics, and
/// "did you mean" for near misses (issue 13).
struct PrefixRuleTests {
    let table = Catalog.table

    func words(_ line: String) -> [String] { line.split(separator: " ").map(String.init) }

    func failure(_ line: String) -> ParseFailure? {
        if case .failure(let f) = table.parse(words(line)) { return f }
        return nil
    }

    func name(_ line: String) -> String? {
        if case .success(let (c, _)) = table.parse(words(line)) { return c.name }
        return nil
    }

    @Test("a word abbreviates a keyword only when no other keyword possible there starts with it")
    func uniquePrefixAmongAllCommands() throws {
        // `s` starts save, service, set, show, sync and sysctl: it names none of them, even where only
        // one of those commands could take the rest of the line (`save FILE`).
        for line in ["s /tmp/x.lvsh", "s gr", "s"] {
            let f = try #require(failure(line), "\(line) parsed")
            #expect(f.wordIndex == 0)
            #expect(f.message == "ambiguous: 's' could be save, service, set, show, sync or sysctl; type more of it")
        }
        #expect(name("sh gr") == "show groups")
        #expect(name("sa /tmp/x.lvsh") == "save")
        #expect(name("sho serv") == "show services")
        // Later positions too: `show s` could be services, sync or sysctl.
        let f = try #require(failure("show s"))
        #expect(f.wordIndex == 1 && f.message.hasPrefix("ambiguous: 's' could be services, sync or sysctl"))
        #expect(name("show sy") == nil, "sync and sysctl")
        #expect(name("show sys") == "show sysctl")
    }

    @Test("a word that is a keyword at its place is that keyword, not short for a longer one")
    func exactKeywordWins() {
        let afterReal = table.next(after: ["real"]).map(\.display)
        #expect(!afterReal.contains("prepare") && !afterReal.contains("script"))
        #expect(afterReal.contains("fwmark") && afterReal.contains("GROUP"))
        // `reals` can only be realserver.
        #expect(name("reals script 192.0.2.1") == "realserver script")
        #expect(table.next(after: ["reals"]).map(\.display) == ["prepare", "script"])
    }

    @Test("an abbreviated line is never answered from a memo of another line's shape")
    func memoKeepsTheRule() {
        var memo = ParseMemo()
        func parses(_ line: String) -> Bool {
            if case .success = table.parse(words(line), memo: &memo) { return true }
            return false
        }
        #expect(parses("sh gr"))
        #expect(!parses("s gr"))
        #expect(parses("show groups") && parses("show groups"))
        #expect(!parses("s gr"))
    }

    @Test("? lists each possible next word once, with the help of the first command offering it")
    func questionMarkListsEachWordOnce() {
        let first = table.next(after: []).map(\.display)
        #expect(first.count == Set(first).count, "repeated: \(first.filter { w in first.filter { $0 == w }.count > 1 })")
        #expect(first.contains("group") && first.contains("realserver") && first.contains("show"))
        let afterNo = table.next(after: ["no"]).map(\.display)
        #expect(afterNo.count == Set(afterNo).count)
    }

    @Test("an unknown word gets the near keywords, not the whole list", arguments: [
        ("shwo groups", 0, "unknown command 'shwo': did you mean show?"),
        ("shows groups", 0, "unknown command 'shows': did you mean show?"),
        ("gruop web vip 10.0.0.1 tcp 80", 0, "unknown command 'gruop': did you mean group?"),
        ("show servcies", 1, "unexpected 'servcies': did you mean services?"),
        ("frob", 0, "unknown command 'frob' (`help` lists the commands, `?` what may come next)"),
        ("group web vip 10.0.0.1 icmp 80", 4, "unexpected 'icmp': expected tcp, udp or sctp"),
    ])
    func didYouMean(line: String, index: Int, message: String) throws {
        let f = try #require(failure(line), "\(line) parsed")
        #expect(f.wordIndex == index)
        #expect(f.message == message)
    }

    @Test func nearMissesAndEditDistance() {
        #expect(Wording.editDistance(Array("shwo"), Array("show")) == 1)
        #expect(Wording.editDistance(Array("kitten"), Array("sitting")) == 3)
        #expect(Wording.nearMisses("sevice", among: ["service", "set", "save"]) == ["service"])
        #expect(Wording.nearMisses("xyz", among: ["service", "set", "save"]) == [])
        // Short words allow one edit only.
        #expect(Wording.nearMisses("sx", among: ["show"]) == [])
    }

    @Test("help lists each command form once, with its arguments")
    func helpListsForms() throws {
        let text = try Catalog.help([])
        for form in ["  group NAME [vip", "  group GROUP add vip", "  group GROUP del vip", "  no group GROUP",
                     "  realserver prepare ADDRESS", "  set pager on|off", "  show services [stats]"] {
            #expect(text.components(separatedBy: "\n" + form).count - 1 == 1, "\(form) once in help")
        }
        #expect(text.contains("  | include REGEX") && text.contains("  | no-more"))
    }

    @Test("help takes several words of a command")
    func helpMultiWordTopics() throws {
        let add = try Catalog.help(["group", "add"])
        #expect(add.hasPrefix("group GROUP add vip"))
        #expect(!add.contains("group NAME") && !add.contains(" del "))
        let services = try Catalog.help(["show", "services"])
        #expect(services.hasPrefix("show services") && !services.contains("show groups"))
        #expect(try Catalog.help(["sh", "serv"]) == services)
        // `real` is real, not realserver.
        let real = try Catalog.help(["real"])
        #expect(real.hasPrefix("real (") && !real.contains("realserver"))
        #expect(try Catalog.help(["no", "group"]).hasPrefix("no group GROUP"))
    }

    @Test("an unknown help topic is bad input with the nearest words", arguments: [
        (["grup"], "help: no command 'grup': did you mean group?"),
        (["group", "ad"], nil),
        (["group", "frob"], "help: no `group` command has 'frob': `help group` lists them"),
        (["show", "servces"], "help: no `show` command has 'servces': did you mean show services?"),
        (["frob"], "help: no command 'frob': `help` lists the commands"),
    ] as [([String], String?)])
    func helpUnknownTopic(topic: [String], message: String?) {
        do throws(LVSError) {
            _ = try Catalog.help(topic)
            #expect(message == nil, "help \(topic) was answered")
        } catch {
            #expect(error.code == .badInput)
            #expect(error.message == message)
        }
    }

    @Test("help with an unknown topic exits 2 from a batch")
    func helpExitCode() {
        var out = "", err = ""
        let session = Session(control: FakeIPVS(), backend: FakeMarks(), out: { out += $0 }, err: { err += $0 },
                              runtime: { () throws(LVSError) in nil })
        #expect(session.runBatch("help group frob", name: "-c") == 2)
        #expect(err.contains("help: no `group` command has 'frob'") && out.isEmpty)
        #expect(session.runBatch("help group add", name: "-c") == 0)
        #expect(out.hasPrefix("group GROUP add"))
    }
}
