import Testing
@testable import Shell
import LVSModel
import IPVSAdm

/// Messages that quote a user's word never carry its control bytes raw, nor all of a huge word.
struct QuotedWordsTests {
    let escape = "\u{1b}"
    let huge = String(repeating: "9", count: 1_000_000)

    func failure(_ words: [String]) -> String {
        guard case .failure(let f) = Catalog.table.parse(words) else { return "" }
        return f.message
    }

    @Test func parserMessagesEscapeAndCut() {
        let messages = [
            failure(["group", "we\u{1b}[2Jb", "vip", "10.0.0.1", "tcp", "80"]),
            failure(["group", "web", "vip", "10.0.0.1\u{1b}", "tcp", "80"]),
            failure(["group", "web", "vip", "10.0.0.1", "tcp", "8\u{1b}0"]),
            failure(["group", "web", "vip", "10.0.0.1", "tcp", "80", "mark", "1\u{1b}"]),
            failure(["sho\u{1b}w"]),
            failure(["show", "groups", "\u{1b}[2J"]),
            failure(["real", "web", "10.0.0.1", "weight", "\u{1b}"]),
        ]
        for m in messages {
            #expect(!m.isEmpty)
            #expect(!m.contains(escape), "\(m)")
            #expect(m.contains("\\x1b"), "\(m)")
        }
        for words in [["group", "web", "vip", huge, "tcp", "80"], ["group", "web", "vip", "10.0.0.1", "tcp", huge],
                      ["group", huge], [huge], ["show", "groups", huge]] {
            let m = failure(words)
            #expect(!m.isEmpty && m.count < 400, "\(m.prefix(500))")
            #expect(m.contains(String(repeating: "9", count: 64) + "…"), "\(m.prefix(500))")
        }
    }

    @Test func valueKindsQuoteShownWords() {
        for kind in [ValueKind.name, .groupName, .address, .addressList, .endpoint, .realServer, .ports, .number(1...9), .mark,
                     .scheduler] {
            let m = kind.problem(with: "a\u{7}b") ?? ""
            #expect(!m.contains("\u{7}") && m.contains("\\x07"), "\(kind): \(m)")
            #expect((kind.problem(with: huge) ?? "").count < 300, "\(kind)")
        }
    }

    @Test func echoedLinesAreShown() throws {
        let input = CommandInput.commandLine(["group", "a\u{1b}b", "vip", "x"])
        #expect(input.source == "group a\\x1bb vip x")
        #expect(input.tokens.map(\.column) == [1, 7, 14, 18])
        let error = #expect(throws: LVSError.self) { try Tokenizer.commands(in: "group 'a\u{1b}b", file: "f") }
        #expect(error?.message.contains(escape) == false)
        let commands = try Tokenizer.commands(in: "group a\u{1b}b vip x\n")
        #expect(commands[0].source == "group a\\x1bb vip x")
        #expect(commands[0].words[1] == "a\u{1b}b")   // the value itself is untouched
    }

    @Test func oneShotErrorsEscapeTheEchoedLine() {
        var err = ""
        let session = Session(control: FakeIPVS(), backend: FakeMarks(), out: { _ in }, err: { err += $0 },
                              runtime: { () throws(LVSError) in nil })
        #expect(session.runCommandLine(["group", "we\u{1b}[2Jb", "vip", "10.0.0.1", "tcp", "80"]) == 2)
        #expect(!err.contains(escape), "\(err)")
        #expect(err.contains("command line:1:7: 'we\\x1b[2Jb' is not a valid name"), "\(err)")
    }

    @Test func ipvsadmKeepsItsWordingWithoutRawControlBytes() {
        var err = ""
        let code = runIPVSAdm(["-A", "-t", "10.0.0.1\u{1b}[2J:80"], control: FakeIPVS(), stdin: { "" }, out: { _ in },
                              err: { err += $0 }, readConnections: { [] })
        #expect(code == 2)
        #expect(!err.isEmpty && !err.contains(escape), "\(err)")
        #expect(err.contains("\\x1b[2J"), "\(err)")
    }
}
