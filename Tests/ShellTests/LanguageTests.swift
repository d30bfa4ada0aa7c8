import Foundation
import Testing
@testable import Shell
import LVSModel

/// The command table itself: every command documented, parsing, `?`, TAB and errors.
struct LanguageTests {
    let table = Catalog.table

    @Test func everyCommandHasHelpExamplesAndAReferenceEntry() throws {
        let reference = Catalog.reference()
        for c in table.commands {
            #expect(!c.summary.isEmpty, "\(c.usage) has no summary")
            #expect(reference.contains(c.usage.replacingBars()), "\(c.usage) is missing from the reference")
            for leaf in Self.leaves(c.syntax) { #expect(!leaf.help.isEmpty, "\(c.usage): \(leaf.display) has no help") }
            for example in c.examples {
                let words = try Tokenizer.commands(in: example)[0].words
                guard case .success(let (parsed, _)) = table.parse(words) else {
                    Issue.record("example does not parse: \(example)")
                    continue
                }
                #expect(parsed.usage == c.usage, "example `\(example)` parses as another command")
            }
        }
        #expect(table.commands.count >= 30)
    }

    @Test func everyCommandCanBeCompletedFromItsFirstLetters() {
        for c in table.commands {
            let first = c.name.split(separator: " ").first.map(String.init) ?? ""
            #expect(table.complete(String(first.prefix(2)), after: [], live: { _ in [] }).contains(first), "\(first) is not completed")
        }
    }

    static func leaves(_ s: Syntax) -> [Leaf] {
        switch s {
        case .word(let w, let h): [.word(w, help: h)]
        case .value(let n, let k, let h): [.value(n, k, help: h)]
        case .rest(let n, let h): [.rest(n, help: h)]
        case .oneOf(_, let words): words.map { .word($0.word, help: $0.help) }
        case .sequence(let items), .choice(let items), .anyOrder(let items): items.flatMap(leaves)
        case .optional(let inner), .repeated(let inner): leaves(inner)
        }
    }

    func parse(_ line: String) -> (Command, Bindings)? {
        if case .success(let r) = table.parse(line.split(separator: " ").map(String.init)) { return r }
        return nil
    }

    func failure(_ line: String) -> ParseFailure? {
        if case .failure(let f) = table.parse(line.split(separator: " ").map(String.init)) { return f }
        return nil
    }

    @Test(arguments: [
        ("group web vip 192.168.61.129 tcp 80,443", "group"),
        ("group web vip 10.0.0.1,10.0.0.2 tcp 80 udp 53,5000-5100 mark 0x10", "group"),
        ("group web add vip any tcp 8443", "group"),
        ("no group web", "no group"),
        ("sh serv", "show services"),
        ("sh services stats json", "show services"),
        ("service web scheduler wlc persistent 300 netmask 255.255.255.0", "service"),
        ("service tcp 192.168.61.129:80 sch rr", "service"),
        ("service fwmark 0x3e8 ipv6 scheduler sh sh-port", "service"),
        ("real web 192.168.147.129 nat weight 3", "real"),
        ("real tcp [2001:db8::1]:80 [2001:db8::10]:8080 nat", "real"),
        ("no real web 192.168.147.129", "no real"),
        ("timeout tcp 900 udp 300", "timeout"),
        ("sync start master interface eth0 id 1", "sync"),
        ("sysctl ip_forward on", "sysctl"),
        ("ipvsadm -A -t 192.168.61.129:80 -s rr", "ipvsadm"),
        ("show running-config", "show running-config"),
    ])
    func parsesCommands(line: String, name: String) throws {
        let (c, _) = try #require(parse(line), "\(line) does not parse")
        #expect(c.name == name)
    }

    @Test func bindsValuesInOrder() throws {
        let (_, b) = try #require(parse("group web vip 10.0.0.1,10.0.0.2 tcp 80 udp 53,5000-5100 mark 0x10"))
        #expect(b.first("name") == "web" && b.first("vips") == "10.0.0.1,10.0.0.2" && b.first("mark") == "0x10")
        #expect(b.all("proto") == ["tcp", "udp"] && b.all("ports") == ["80", "53,5000-5100"])
        let (_, r) = try #require(parse("real tcp 1.2.3.4:80 10.0.0.1:8080 weight 3 nat upper 10"))
        #expect(r.first("proto") == "tcp" && r.first("vip") == "1.2.3.4:80" && r.first("real") == "10.0.0.1:8080")
        #expect(r.first("weight") == "3" && r.first("method") == "nat" && r.first("upper") == "10")
    }

    @Test(arguments: [
        ("group web vip 10.0.0.300 tcp 80", 3, "'10.0.0.300' is not an IPv4 or IPv6 address"),
        ("group web vip 10.0.0.1 icmp 80", 4, "unexpected 'icmp': expected tcp, udp or sctp"),
        ("group web vip 10.0.0.1 tcp 0", 5, "port 0 cannot be matched"),
        ("group web vip 10.0.0.1 tcp 90-80", 5, "range 90-80 runs backwards"),
        ("group web vip 10.0.0.1 tcp 80 mark 0", 7, "is not a mark"),
        ("group 1web vip 10.0.0.1 tcp 80", 1, "is not a valid name"),
        ("real web 10.0.0.1 weight 70000", 4, "is not a number from 0 to 65535"),
        ("frob", 0, "unknown command 'frob'"),
        ("show", 1, "incomplete command: expected services"),
        ("sh", 1, "incomplete command"),
        ("sysctl a b c", 3, "the command ends before it"),
    ])
    func refusesWithAPreciseMessage(line: String, index: Int, message: String) throws {
        let f = try #require(failure(line), "\(line) parsed")
        #expect(f.wordIndex == index)
        #expect(f.message.contains(message), "\(f.message)")
    }

    @Test func questionMarkListsWhatMayFollowWithHelp() {
        let next = table.next(after: ["show"]).map(\.display)
        #expect(next.starts(with: ["services", "groups", "rules"]))
        let afterGroup = table.next(after: ["group", "web"]).map(\.display)
        #expect(afterGroup.contains("vip") && afterGroup.contains("add") && afterGroup.contains("mark") && afterGroup.contains("<cr>"))
        #expect(table.next(after: ["show", "groups"]).map(\.display) == ["json", "<cr>"])
    }

    @Test func tabCompletesKeywordsAndLiveValues() {
        let live: (ValueKind) -> [String] = { kind in kind == .groupName ? ["web", "webmail", "dns"] : [] }
        #expect(table.complete("gr", after: ["show"], live: live) == ["groups"])
        #expect(table.complete("web", after: ["no", "group"], live: live) == ["web", "webmail"])
        #expect(table.complete("", after: ["real"], live: live).contains("fwmark"))
        #expect(table.complete("", after: ["real"], live: live).contains("dns"))
    }
}

/// docs/commands.md is generated from the command table; a command added without regenerating fails here.
struct ReferenceDocTests {
    @Test func docsMatchTheCommandTable() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("docs/commands.md")
        let text = try String(contentsOf: url, encoding: .utf8)
        #expect(text == Catalog.reference(), "docs/commands.md is stale: regenerate it with `lvsh help reference > docs/commands.md`")
    }
}

/// Values come out of the grammar typed: the value kind that checks a word makes its value, and a
/// remembered parse (ParseMemo) gives the same values for another command of the same shape.
struct TypedValueTests {
    @Test("handlers read typed values: addresses, endpoints, port lists, numbers and marks")
    func typedValues() throws {
        guard case .success(let (_, b)) = Catalog.table.parse("group web vip 10.0.0.1,2001:db8::1 tcp 80,8000-8100 udp 53 mark 0x10".split(separator: " ").map(String.init)) else {
            Issue.record("no parse")
            return
        }
        #expect(b.addresses("vips") == [IPAddress("10.0.0.1")!, IPAddress("2001:db8::1")!])
        #expect(b.portLists("ports") == [[80...80, 8000...8100], [53...53]])
        #expect(b.mark("mark") == 16)
        guard case .success(let (_, r)) = Catalog.table.parse(["real", "tcp", "10.0.0.1:80", "[2001:db8::2]", "weight", "7"]) else {
            Issue.record("no parse")
            return
        }
        #expect(r.endpoint("vip")?.address == IPAddress("10.0.0.1") && r.endpoint("vip")?.port == 80)
        #expect(r.endpoint("real")?.address == IPAddress("2001:db8::2") && r.endpoint("real")?.port == nil)
        #expect(r.number("weight") == 7)
        guard case .success(let (_, any)) = Catalog.table.parse(["group", "dns", "vip", "any", "udp", "53"]) else {
            Issue.record("no parse")
            return
        }
        #expect(any.value("vips") == .addresses(nil))
    }

    @Test("a remembered parse carries the new command's values, not the first one's")
    func memoValues() {
        var memo = ParseMemo()
        for (weight, address) in [(1, "10.0.0.1"), (2, "10.0.0.2"), (3, "10.0.0.3")] {
            let words = ["real", "tcp", "192.0.2.1:80", address, "weight", "\(weight)"]
            guard case .success(let (_, b)) = Catalog.table.parse(words, memo: &memo) else {
                Issue.record("no parse")
                return
            }
            #expect(b.number("weight") == UInt64(weight))
            #expect(b.endpoint("real")?.address == IPAddress(address))
        }
    }
}
