import Health
import LVSModel
import Testing

@Suite("DNS query and answer")
struct DNSMessageTests {
    @Test func queryBytes() throws {
        let q = try DNSMessage.query(id: 0xbeef, name: "www.example.org", type: .aaaa)
        #expect(q == [0xbe, 0xef, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0,
                      3] + Array("www".utf8) + [7] + Array("example".utf8) + [3] + Array("org".utf8) + [0,
                      0, 28, 0, 1])
    }

    @Test func trailingDotAndRoot() throws {
        #expect(try DNSMessage.query(id: 1, name: "a.", type: .a).suffix(7) == [1, 0x61, 0, 0, 1, 0, 1])
        #expect(try DNSMessage.query(id: 1, name: ".", type: .soa).suffix(5) == [0, 0, 6, 0, 1])
    }

    @Test func badNamesAreRefused() {
        #expect(throws: DNSNameError.self) { try DNSMessage.query(id: 1, name: "a..b", type: .a) }
        #expect(throws: DNSNameError.self) { try DNSMessage.query(id: 1, name: String(repeating: "x", count: 64), type: .a) }
    }

    func answer(id: UInt16, flags: (UInt8, UInt8), answers: UInt16 = 1) -> [UInt8] {
        [UInt8(id >> 8), UInt8(id & 0xff), flags.0, flags.1, 0, 1, 0, UInt8(answers), 0, 0, 0, 0]
    }

    @Test func answerWithRcode0Passes() {
        let v = DNSMessage.verdict(answer: answer(id: 7, flags: (0x81, 0x80)), id: 7)
        #expect(v?.ok == true)
        #expect(v?.reason == "answer with 1 record")
    }

    @Test func errorRcodesFail() {
        let v = DNSMessage.verdict(answer: answer(id: 7, flags: (0x81, 0x83), answers: 0), id: 7)
        #expect(v?.ok == false)
        #expect(v?.reason == "answer with rcode 3 (NXDOMAIN)")
        #expect(DNSMessage.verdict(answer: answer(id: 7, flags: (0x81, 0x85)), id: 7)?.reason.contains("REFUSED") == true)
    }

    @Test func otherIdsQueriesAndShortDatagramsAreIgnored() {
        #expect(DNSMessage.verdict(answer: answer(id: 8, flags: (0x81, 0x80)), id: 7) == nil)
        #expect(DNSMessage.verdict(answer: answer(id: 7, flags: (0x01, 0x00)), id: 7) == nil)
        #expect(DNSMessage.verdict(answer: [0, 7, 0x81], id: 7) == nil)
    }

    @Test func typeCodes() {
        #expect(DNSRecordType.allCases.map(\.code) == [1, 28, 2, 5, 6, 12, 15, 16, 33])
    }
}
