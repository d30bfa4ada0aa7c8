import LVSModel
@testable import Shell
import Testing

/// The control socket's frames: what a front sends reads back the same in the daemon, and the other way.
struct ControlWireTests {
    @Test("requests and replies read back as they were sent, files and odd bytes included")
    func roundTrip() throws {
        var options = SessionOptions(json: true, dryRun: false)
        options.apply.check = true
        options.apply.drain = 30
        var request = ControlRequest(name: "-c", text: "group web vip 192.0.2.1 tcp 80\nsave 'a b.lvsh'\n", options: options)
        request.files = ["/etc/lvsh/site.lvsh": "service tcp 192.0.2.1:80\n", "empty": "", "ünï\u{0}": "\u{1}\u{7f}"]
        let frame = ControlWire.encode(request)
        #expect(try ControlWire.length(frame.prefix(4)) == frame.count - 4)
        let back = try ControlWire.request(Array(frame.dropFirst(4)))
        #expect(back == request)
        #expect(back.json && back.check && back.drain == 30 && !back.dryRun && back.confirm == nil)

        let reply = ControlReply(code: 2, out: "saved to a b.lvsh\n", err: "warning\n",
                                 writes: [FileWrite(path: "a b.lvsh", contents: "# lvsh\n", done: "saved to a b.lvsh\n")])
        let replyFrame = ControlWire.encode(reply)
        #expect(try ControlWire.reply(Array(replyFrame.dropFirst(4))) == reply)
    }

    @Test("truncated, oversized and foreign frames are refused with a message")
    func refusals() {
        let frame = ControlWire.encode(ControlRequest(name: "x", text: "show services\n"))
        let payload = Array(frame.dropFirst(4))
        #expect(throws: LVSError.self) { try ControlWire.request(Array(payload.dropLast())) }
        #expect(throws: LVSError.self) { try ControlWire.length([0xff, 0xff, 0xff, 0xff]) }
        var foreign = payload
        foreign[4] = UInt8(ascii: "X")
        do {
            _ = try ControlWire.request(foreign)
            Issue.record("a foreign version was accepted")
        } catch {
            #expect(error.message.contains("different versions"))
        }
    }
}
