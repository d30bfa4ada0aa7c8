import Testing
@testable import Shell
import LVSModel
import IPVSAdm

/// lvsh's language refuses IPv4-mapped IPv6 addresses and signed numbers, with a message that says so;
/// `lvsh ipvsadm` keeps accepting what ipvsadm (inet_pton, strtoul) accepts.
struct SignsAndMappedTests {
    func failure(_ line: String) -> String {
        guard case .failure(let f) = Catalog.table.parse(line.split(separator: " ").map(String.init)) else { return "" }
        return f.message
    }

    @Test(arguments: [
        ("group web vip ::ffff:192.0.2.1 tcp 80", "'::ffff:192.0.2.1' is an IPv4-mapped IPv6 address: write the IPv4 address 192.0.2.1"),
        ("group web vip 10.0.0.1,::ffff:c000:201 tcp 80", "'::ffff:c000:201' is an IPv4-mapped IPv6 address: write the IPv4 address 192.0.2.1"),
        ("service tcp [::ffff:192.0.2.1]:80", "'[::ffff:192.0.2.1]:80' is an IPv4-mapped IPv6 address: write the IPv4 address 192.0.2.1"),
        ("real tcp 192.0.2.1:80 ::ffff:10.0.0.1", "'::ffff:10.0.0.1' is an IPv4-mapped IPv6 address: write the IPv4 address 10.0.0.1"),
        ("realserver script ::FFFF:192.0.2.1", "is an IPv4-mapped IPv6 address: write the IPv4 address 192.0.2.1"),
        ("group web vip 192.0.2.1 tcp +80", "'+80' has a sign: write ports without '+'"),
        ("group web vip 192.0.2.1 tcp 80,+443", "'+443' has a sign"),
        ("group web vip 192.0.2.1 tcp 80-+90", "'80-+90' has a sign"),
        ("group web vip 192.0.2.1 tcp 80 mark +5", "'+5' has a sign: write the mark without '+' or '-'"),
        ("group web vip 192.0.2.1 tcp 80 mark 0x+5", "'0x+5' has a sign"),
        ("real tcp 192.0.2.1:80 10.0.0.1 weight +3", "'+3' has a sign: write the number without '+' or '-'"),
        ("timeout tcp -0", "'-0' has a sign"),
    ])
    func refused(line: String, message: String) {
        let m = failure(line)
        #expect(m.contains(message), "\(line): \(m)")
    }

    @Test func plainFormsStillParse() {
        for line in ["group web vip 192.0.2.1,2001:db8::1,::1 tcp 80,443 mark 0x10", "real tcp 192.0.2.1:80 10.0.0.1 weight 3",
                     "service tcp [2001:db8::1]:80", "group v6 vip ::192.0.2.1 tcp 80"] {
            if case .failure(let f) = Catalog.table.parse(line.split(separator: " ").map(String.init)) { Issue.record("\(line): \(f.message)") }
        }
        #expect(IPAddress("::ffff:192.0.2.1")?.isV4Mapped == true)
        #expect(IPAddress("::ffff:192.0.2.1")?.unmappedV4 == IPAddress("192.0.2.1"))
        #expect(IPAddress("::192.0.2.1")?.isV4Mapped == false)
        #expect(IPAddress("192.0.2.1")?.isV4Mapped == false)
    }

    @Test func ipvsadmKeepsIPVSAdmsParsing() throws {
        let mapped = try IPVSAdmParser.parse(["-A", "-t", "[::ffff:192.0.2.1]:80"])
        #expect(!mapped.operations.isEmpty)
        let signed = try IPVSAdmParser.parse(["-A", "-t", "192.0.2.1:+80"])
        #expect(!signed.operations.isEmpty)
    }
}
