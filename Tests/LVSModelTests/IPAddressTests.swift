import Testing
import LVSModel

struct IPAddressTests {
    @Test(arguments: [
        ("192.168.61.129", "192.168.61.129"),
        ("0.0.0.0", "0.0.0.0"),
        ("255.255.255.255", "255.255.255.255"),
        ("2001:db8::1", "2001:db8::1"),
        ("2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1"),
        ("::", "::"),
        ("::1", "::1"),
        ("fe80::", "fe80::"),
        ("1:0:0:2:0:0:0:3", "1:0:0:2::3"),
        ("1:0:2:0:3:0:4:0", "1:0:2:0:3:0:4:0"),
        ("::ffff:192.168.1.1", "::ffff:192.168.1.1"),
        ("2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"),
        ("FD00::A", "fd00::a"),
    ])
    func parsesAndPrintsLikeInetNtop(input: String, printed: String) throws {
        let a = try #require(IPAddress(input))
        #expect(a.description == printed)
        #expect(IPAddress(a.description) == a)
        #expect(IPAddress(bytes: a.bytes) == a)
    }

    @Test(arguments: ["", "1.2.3", "1.2.3.4.5", "256.1.1.1", "1.2.3.-1", "01.2.3.4", "1::2::3", "12345::",
                      "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7", "g::1", "a.b.c.d", " 1.2.3.4", "::1.2.3"])
    func rejectsMalformedAddresses(input: String) {
        #expect(IPAddress(input) == nil)
    }

    @Test func familiesAndOrdering() {
        let v4 = IPAddress("10.0.0.2")!, v4b = IPAddress("10.0.0.10")!, v6 = IPAddress("::1")!
        #expect(v4.family == .v4 && v6.family == .v6)
        #expect(v4 < v4b && v4b < v6)
        #expect(v4.bytes == [10, 0, 0, 2])
        #expect(v6.bytes.count == 16)
    }

    @Test func netmaskPrefixLength() {
        #expect(IPAddress.prefixLength(ofMask: 0xffff_ff00) == 24)
        #expect(IPAddress.prefixLength(ofMask: 0xffff_ffff) == 32)
        #expect(IPAddress.prefixLength(ofMask: 0) == 0)
        #expect(IPAddress.prefixLength(ofMask: 0xff00_ff00) == nil)
    }
}
