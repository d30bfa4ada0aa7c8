import Testing
@testable import Shell
import LVSModel

/// What a front sends the daemon while one runs: each command once, with its words intact.
struct ForwardedBatchTests {
    func forwarded(_ batch: String) -> [String] {
        var sent: [String] = []
        let session = Session(control: FakeIPVS(), backend: FakeMarks(), out: { _ in }, err: { _ in },
                              runtime: { () throws(LVSError) in nil })
        session.forward = { (request: ControlRequest) throws(LVSError) -> ControlReply in
            sent.append(request.text)
            return ControlReply(code: 0)
        }
        _ = session.runBatch(batch, name: "-c")
        return sent
    }

    @Test("commands sharing a line are sent once each")
    func sharedLine() throws {
        let sent = forwarded("group web vip 10.0.0.1 tcp 80; service web scheduler rr\nreal web 10.1.0.1 nat")
        #expect(sent.count == 1)
        let commands = try Tokenizer.commands(in: try #require(sent.first)).map(\.words)
        #expect(commands == [["group", "web", "vip", "10.0.0.1", "tcp", "80"], ["service", "web", "scheduler", "rr"],
                             ["real", "web", "10.1.0.1", "nat"]])
    }

    @Test("a line longer than a message shows is sent whole, and quoted words keep their bytes")
    func longLineAndQuotes() throws {
        let vips = (1...100).map { "10.0.0.\($0)" }.joined(separator: ",")
        let sent = forwarded("group big vip \(vips) tcp 80,443\ncheck h http path '/a b' expect 'ok;#\\$'")
        let commands = try Tokenizer.commands(in: try #require(sent.first)).map(\.words)
        #expect(commands.first == ["group", "big", "vip", vips, "tcp", "80,443"])
        #expect(commands.last == ["check", "h", "http", "path", "/a b", "expect", "ok;#\\$"])
    }

    @Test("a word holding a single quote survives the quoting")
    func singleQuote() throws {
        let sent = forwarded("check h http path / expect \"it's\"")
        let commands = try Tokenizer.commands(in: try #require(sent.first)).map(\.words)
        #expect(commands == [["check", "h", "http", "path", "/", "expect", "it's"]])
    }
}
