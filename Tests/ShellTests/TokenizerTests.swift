import Testing
@testable import Shell
import LVSModel

/// The tokenizer's sh-like rules, and its byte fast path agreeing with the general one.
struct TokenizerTests {
    func words(_ input: String) throws -> [[String]] { try Tokenizer.commands(in: input).map(\.words) }

    @Test func splitsCommandsAndWordsLikeSh() throws {
        #expect(try words("real web 10.0.0.1  nat\nshow services") == [["real", "web", "10.0.0.1", "nat"], ["show", "services"]])
        #expect(try words("a 'b c' \"d \\\"e\"; f # comment") == [["a", "b c", "d \"e"], ["f"]])
        #expect(try words("service web \\\n  scheduler rr\n\n# only a comment\n") == [["service", "web", "scheduler", "rr"]])
        #expect(try words("sysctl x 'a;b'") == [["sysctl", "x", "a;b"]])
    }

    @Test func placesEveryWord() throws {
        let c = try Tokenizer.commands(in: "\n  real web 10.0.0.1\n\tno real web x", file: "f")
        #expect(c.map(\.line) == [2, 3])
        #expect(c[0].tokens.map(\.column) == [3, 8, 12])
        #expect(c[1].tokens.map(\.column) == [2, 5, 10, 14])
        #expect(c[0].source == "  real web 10.0.0.1")
    }

    /// A command's source is the line it started on, through continuations, `;` and both paths.
    @Test func aCommandShowsTheLineItStartedOn() throws {
        let c = try Tokenizer.commands(in: "a 'b' \\\n  c\nd; e\nplain words\n\t\"q\" \\\nlast", file: "f")
        #expect(c.map(\.words) == [["a", "b", "c"], ["d"], ["e"], ["plain", "words"], ["q", "last"]])
        #expect(c.map(\.line) == [1, 3, 3, 4, 5])
        #expect(c.map(\.source) == ["a 'b' \\", "d; e", "d; e", "plain words", "\t\"q\" \\"])
    }

    /// A tab sends a line through the general path: both paths must give the same tokens.
    @Test(arguments: ["real fwmark 1000 10.1.0.1:80 nat weight 1", "  service  tcp [2001:db8::1]:80 scheduler wlc  ",
                      "group web vip 10.0.0.1,10.0.0.2 tcp 80,443 udp 53", "x", "   "])
    func theFastPathAgreesWithTheGeneralOne(line: String) throws {
        let fast = try Tokenizer.commands(in: "\(line)\nnext")
        let general = try Tokenizer.commands(in: "\(line)\t\nnext")
        #expect(fast.map(\.tokens) == general.map(\.tokens))
        #expect(fast.map(\.line) == general.map(\.line))
    }

    /// Lines are found a block of 4,096 at a time: commands, continuations and line numbers run on
    /// across the blocks, with or without a last newline.
    @Test func linesRunOnAcrossTheScannedBlocks() throws {
        var text = (1...9_000).map { "real web 10.0.0.\($0 % 250 + 1) weight \($0)" }
        text[4_095] = "service web \\"   // line 4,096 continues onto line 4,097, in the next block
        text[4_500] = ""
        for last in [text.joined(separator: "\n"), text.joined(separator: "\n") + "\n"] {
            var lines: [Int] = [], sources: [String] = [], count = 0
            try Tokenizer.forEachCommand(in: last) { c in count += 1; lines.append(c.line); sources.append(c.source) }
            #expect(count == 8_998)
            #expect(lines[4_095] == 4_096 && sources[4_095] == "service web \\")
            #expect(lines[4_096] == 4_098 && lines.last == 9_000 && sources.last == "real web 10.0.0.1 weight 9000")
        }
        let bad = Array(repeating: "x", count: 5_000).joined(separator: "\n") + "\nsysctl x 'open\ny"
        #expect { try Tokenizer.commands(in: bad, file: "f") } throws: { ($0 as? LVSError)?.message.hasPrefix("f:5001: unterminated single quote\n  sysctl x 'open") == true }
        #expect(try Tokenizer.commands(in: "").isEmpty && Tokenizer.commands(in: "\n\n").isEmpty)
    }

    @Test func refusesAnUnterminatedQuote() {
        #expect(throws: (any Error).self) { try Tokenizer.commands(in: "sysctl x 'open") }
    }
}

/// `lvsh WORD...`: the words as one echoed line, with the caret under the word at fault.
struct CommandLineInputTests {
    @Test func columnsAreWhereTheWordsStandInTheEchoedLine() {
        let input = CommandInput.commandLine(["group", "web", "vip", "1.2.3.999", "tcp", "80"])
        #expect(input.source == "group web vip 1.2.3.999 tcp 80")
        #expect(input.tokens.map(\.column) == [1, 7, 11, 15, 25, 29])
        #expect(input.words == ["group", "web", "vip", "1.2.3.999", "tcp", "80"])
    }

    @Test func theCaretStandsUnderTheOffendingWord() {
        var err = ""
        let session = Session(control: FakeIPVS(), backend: FakeMarks(), out: { _ in }, err: { err += $0 },
                              runtime: { () throws(LVSError) in nil })
        #expect(session.runCommandLine(["group", "web", "vip", "1.2.3.999", "tcp", "80"]) == 2)
        #expect(err == """
            command line:1:15: '1.2.3.999' is not an IPv4 or IPv6 address (give ADDRESS[,ADDRESS...] or any)
              group web vip 1.2.3.999 tcp 80
                            ^

            """)
    }
}

/// A batch ends at `quit` or `exit`: the commands after it are dropped before the batch runs.
struct BatchInputTests {
    func kept(_ text: String) throws -> [[String]] {
        BatchInput.untilQuit(try Tokenizer.commands(in: text)).map(\.words)
    }

    @Test func dropsWhatFollowsQuit() throws {
        #expect(try kept("group a vip 192.0.2.1 tcp 80\nquit\ngroup b vip 192.0.2.2 tcp 81\n") == [["group", "a", "vip", "192.0.2.1", "tcp", "80"]])
        #expect(try kept("show groups; exit; show services") == [["show", "groups"]])
        #expect(try kept("  q  \nshow groups") == [])
        #expect(try kept("show groups\nshow services") == [["show", "groups"], ["show", "services"]])
        // Not a quit: words after it, or a group named quit.
        #expect(try kept("quit now\nshow groups").count == 2)
        #expect(try kept("no group quit\nshow groups").count == 2)
    }

    @Test func aBatchFromStandardInputStopsAtQuit() {
        let marks = FakeMarks()
        let session = Session(control: FakeIPVS(), backend: marks, out: { _ in }, err: { _ in },
                              runtime: { () throws(LVSError) in nil })
        #expect(session.runBatch("group a vip 192.0.2.1 tcp 80\nquit\ngroup b vip 192.0.2.2 tcp 81\n", name: "<stdin>") == 0)
        #expect(marks.stored.map(\.name) == ["a"])
    }
}
