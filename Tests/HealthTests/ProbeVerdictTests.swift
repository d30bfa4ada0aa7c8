@testable import Health
import LVSModel
import Testing

@Suite("HTTP, UDP, script, file and ICMP verdicts")
struct ProbeVerdictTests {
    @Test func httpStatusRanges() {
        var p = HTTPProbe()
        p.status = [200...299, 302...302]
        #expect(HTTPExpectation.evaluate(p, status: 204, body: []) == (true, "status 204"))
        #expect(HTTPExpectation.evaluate(p, status: 302, body: []).ok)
        #expect(HTTPExpectation.evaluate(p, status: 503, body: []) == (false, "status 503, expected 200-299,302"))
    }

    @Test func httpBodyRegex() {
        var p = HTTPProbe()
        p.expect = #"status: (ok|degraded)"#
        #expect(HTTPExpectation.needsBody(p))
        #expect(HTTPExpectation.evaluate(p, status: 200, body: Array("{\n status: ok\n}".utf8)).ok)
        #expect(HTTPExpectation.evaluate(p, status: 200, body: Array("status: down".utf8)).reason
            == #"status 200, body does not match status: (ok|degraded)"#)
        p.expect = "("
        #expect(!HTTPExpectation.evaluate(p, status: 200, body: []).ok)
    }

    @Test func httpDigestIsMD5OfTheBody() {
        // md5("hello\n"), as `echo hello | md5sum` and keepalived's genhash print it.
        #expect(HTTPExpectation.md5Hex(Array("hello\n".utf8)) == "b1946ac92492d2347c6235b4d2611184")
        var p = HTTPProbe()
        p.digest = "B1946AC92492D2347C6235B4D2611184"
        #expect(HTTPExpectation.evaluate(p, status: 200, body: Array("hello\n".utf8)).ok)
        #expect(!HTTPExpectation.evaluate(p, status: 200, body: Array("hello".utf8)).ok)
    }

    @Test func httpRequestHead() {
        var p = HTTPProbe()
        p.path = "/health?full=1"
        let head = HTTPProbeRunner.requestHead(p, host: "www.example.org")
        #expect(head.uri == "/health?full=1")
        #expect(head.headers["Host"] == ["www.example.org"])
        #expect(head.headers["Connection"] == ["close"])
        #expect(HTTPProbeRunner.hostHeader(address: IPAddress("10.0.1.1")!, port: 80, tls: false) == "10.0.1.1")
        #expect(HTTPProbeRunner.hostHeader(address: IPAddress("10.0.1.1")!, port: 8443, tls: true) == "10.0.1.1:8443")
        #expect(HTTPProbeRunner.hostHeader(address: IPAddress("fd00::1")!, port: 443, tls: true) == "[fd00::1]")
    }

    @Test func udpExpectIsAPrefix() {
        #expect(DatagramExpectation.evaluate(answer: [0xde, 0xad, 0xbe, 0xef], expect: [0xde, 0xad]).ok)
        #expect(DatagramExpectation.evaluate(answer: [0xde], expect: [0xde, 0xad])
            == (false, "answer de does not start with dead"))
        #expect(DatagramExpectation.evaluate(answer: [], expect: nil).ok)
    }

    @Test func scriptExitStatuses() {
        #expect(ProgramVerdict.script(status: 0, signal: nil).ok)
        #expect(!ProgramVerdict.script(status: 1, signal: nil).ok)
        #expect(ProgramVerdict.script(status: 2, signal: nil).adjustment == .set(0))
        #expect(ProgramVerdict.script(status: 255, signal: nil).adjustment == .set(253))
        #expect(ProgramVerdict.script(status: 12, signal: nil).ok)
        #expect(ProgramVerdict.script(status: 0, signal: 9) == (false, "killed by signal 9", nil))
    }

    @Test func fileNumbersAsStrtolReadsThem() {
        func n(_ s: String) -> Int64? { ProgramVerdict.integer(Array(s.utf8)) }
        #expect(n("42\n") == 42)
        #expect(n("  -7") == -7)
        #expect(n("0x1F") == 31)
        #expect(n("010") == 8)
        #expect(n("0") == 0)
        #expect(n("abc") == 0)
        #expect(n("") == 0)
        #expect(n("2147483648") == 2_147_483_648)
        #expect(n("2147483649") == nil)
    }

    @Test func fileWithWeight0IsUpAt0AndDownOtherwise() {
        #expect(ProgramVerdict.file(content: Array("0\n".utf8), weight: 0).ok)
        #expect(!ProgramVerdict.file(content: Array("1\n".utf8), weight: 0).ok)
        // keepalived reads a missing file as 0.
        #expect(ProgramVerdict.file(content: nil, weight: 0) == (true, "no file (0)", nil))
    }

    @Test func fileWithAWeightAddsValueTimesWeight() {
        #expect(ProgramVerdict.file(content: Array("5".utf8), weight: 2).adjustment == .add(10))
        #expect(ProgramVerdict.file(content: Array("-3".utf8), weight: 4).adjustment == .add(-12))
        #expect(ProgramVerdict.file(content: Array("5".utf8), weight: -1).adjustment == .add(-5))
        // At or below −2³¹: keepalived's fault state.
        #expect(!ProgramVerdict.file(content: Array("-2147483648".utf8), weight: 1).ok)
        #expect(!ProgramVerdict.file(content: Array("-2000000000".utf8), weight: 2).ok)
        #expect(!ProgramVerdict.file(content: Array("9999999999".utf8), weight: 1).ok)
    }

    @Test func icmpEchoRequestAndReply() {
        let request = ICMPEcho.request(v6: false, identifier: 0x1234, sequence: 7, payload: [1, 2, 3])
        #expect(request[0] == 8)
        #expect(ICMPEcho.checksum(request) == 0)
        // A reply as a raw IPv4 socket sees it: a 20-byte IP header first.
        var reply = request
        reply[0] = 0
        let withHeader = [0x45] + [UInt8](repeating: 0, count: 19) + reply
        #expect(ICMPEcho.isReply(withHeader, v6: false, includesIPHeader: true, identifier: 0x1234, sequence: 7))
        #expect(!ICMPEcho.isReply(withHeader, v6: false, includesIPHeader: true, identifier: 0x1235, sequence: 7))
        #expect(!ICMPEcho.isReply(withHeader, v6: false, includesIPHeader: true, identifier: 0x1234, sequence: 8))
        #expect(ICMPEcho.isReply(reply, v6: false, includesIPHeader: false, identifier: nil, sequence: 7))
        #expect(!ICMPEcho.isReply(request, v6: false, includesIPHeader: false, identifier: nil, sequence: 7))
        let v6 = ICMPEcho.request(v6: true, identifier: 1, sequence: 2, payload: [])
        #expect(v6 == [128, 0, 0, 0, 0, 1, 0, 2])
        #expect(ICMPEcho.isReply([129, 0, 0, 0, 0, 9, 0, 2], v6: true, includesIPHeader: false, identifier: nil, sequence: 2))
    }

    @Test func rfc3339() {
        #expect(HealthTime(milliseconds: 0).rfc3339 == "1970-01-01T00:00:00.000Z")
        #expect(HealthTime(milliseconds: 1_764_730_003_120).rfc3339 == "2025-12-03T02:46:43.120Z")
        #expect(HealthTime(milliseconds: 951_782_400_000).rfc3339 == "2000-02-29T00:00:00.000Z")
        #expect(HealthTime(milliseconds: -1).rfc3339 == "1969-12-31T23:59:59.999Z")
    }

    @Test func probeKeysNormaliseWhatDoesNotMatter() {
        let a = ProbeKey(probe: .file(path: "/w", weight: 1), address: IPAddress("10.0.0.1"), port: 80, source: IPAddress("10.0.0.9"), timeoutMilliseconds: 1000)
        let b = ProbeKey(probe: .file(path: "/w", weight: 1), address: IPAddress("10.0.0.2"), port: 0, timeoutMilliseconds: 1000)
        #expect(a == b)
        let ping = ProbeKey(probe: .ping, address: IPAddress("10.0.0.1"), port: 80, timeoutMilliseconds: 1000)
        #expect(ping.port == 0)
        #expect(ping.description == "ping 10.0.0.1 timeout 1000ms")
        let http = ProbeKey(probe: .http(HTTPProbe()), address: IPAddress("fd00::1"), port: 8080, timeoutMilliseconds: 500)
        #expect(http.description == "http [fd00::1]:8080 path / timeout 500ms")
    }
}
