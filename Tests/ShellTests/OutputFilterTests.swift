import LVSModel
@testable import Shell
import Testing

/// `| include`, `| exclude`, `| begin`, `| count` and `| no-more` after a command, chained.
struct OutputFilterTests {
    static let text = "group web vip 192.0.2.1 tcp 80 mark 1000\ngroup dns vip any udp 53 mark 1001\ngroup mail vip 192.0.2.2 tcp 25 mark 1002\n"

    func split(_ line: String) throws(LVSError) -> ([String], OutputFilter?) {
        let input = try Tokenizer.commands(in: line)[0]
        return try OutputFilter.split(input, located: { message, index in "\(index): \(message)" })
    }

    func filtered(_ line: String) throws -> String {
        let (_, filter) = try split(line)
        return try #require(filter).apply(Self.text)
    }

    @Test func eachStage() throws {
        #expect(try filtered("show groups | include tcp") == "group web vip 192.0.2.1 tcp 80 mark 1000\ngroup mail vip 192.0.2.2 tcp 25 mark 1002\n")
        #expect(try filtered("show groups | exclude tcp") == "group dns vip any udp 53 mark 1001\n")
        #expect(try filtered("show groups | begin dns") == "group dns vip any udp 53 mark 1001\ngroup mail vip 192.0.2.2 tcp 25 mark 1002\n")
        #expect(try filtered("show groups | count") == "3\n")
        #expect(try filtered("show groups | no-more") == Self.text)
        // Abbreviated as commands are: `inc`, `ex`, `c`.
        #expect(try filtered("show groups | inc mail") == "group mail vip 192.0.2.2 tcp 25 mark 1002\n")
        #expect(try filtered("show groups | c") == "3\n")
    }

    @Test("nothing left prints nothing: no empty line")
    func noMatchPrintsNothing() throws {
        #expect(try filtered("show groups | include nosuch") == "")
        #expect(try filtered("show groups | begin nosuch") == "")
        #expect(try filtered("show groups | include nosuch | count") == "0\n")
        let (_, filter) = try split("show groups | include x")
        #expect(try #require(filter).apply("") == "")
    }

    @Test("stages chain left to right")
    func chained() throws {
        #expect(try filtered("show groups | include tcp | count") == "2\n")
        #expect(try filtered("show groups | exclude dns | include 1002") == "group mail vip 192.0.2.2 tcp 25 mark 1002\n")
        #expect(try filtered("show groups | begin dns | exclude mail | count") == "1\n")
        let (words, filter) = try split("show groups | include tcp | no-more")
        #expect(words == ["show", "groups"])
        #expect(try #require(filter).refusesPager)
        #expect(try split("show groups | count").1?.refusesPager == false)
    }

    @Test("a bad stage is bad input at its word", arguments: [
        ("show groups |", "2: after '|' give include REGEX, exclude REGEX, begin REGEX, count or no-more"),
        ("show groups | count |", "4: after '|' give include REGEX, exclude REGEX, begin REGEX, count or no-more"),
        ("show groups | incldue x", "3: after '|': 'incldue' is not a filter: did you mean include?"),
        ("show groups | grep x", "3: after '|': 'grep' is not a filter: give include REGEX, exclude REGEX, begin REGEX, count or no-more"),
        ("show groups | include", "4: after '|': incomplete command: expected REGEX"),
        ("show groups | count 3", "4: after '|': unexpected '3': the command ends before it (quote a value that has spaces)"),
        ("show groups | include (", "4: '(' is not a regular expression"),
    ])
    func refusals(line: String, message: String) {
        do throws(LVSError) {
            _ = try split(line)
            Issue.record("\(line) was accepted")
        } catch {
            #expect(error.message.hasPrefix(message), "\(error.message)")
        }
    }

    @Test("only commands that print a listing take a filter")
    func onlyListings() {
        var err = ""
        let session = Session(control: FakeIPVS(), backend: FakeMarks(), out: { _ in }, err: { err += $0 },
                              runtime: { () throws(LVSError) in nil })
        #expect(session.runBatch("group web vip 192.0.2.1 tcp 80 | include x", name: "-c") == 2)
        #expect(err.contains("`group` prints no listing to filter"))
    }
}
