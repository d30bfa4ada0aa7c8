import Foundation
import Testing

/// Bad group input through the lvsh binary: a precise message (what, which groups, where), exit 2, and
/// the ruleset exactly as before (`nft -j list ruleset`, handles included).
@Suite(.enabled(if: CLILab.available, "needs root, ip, nft and the lvsh binary (swift build)"))
struct BadInputCLITests {
    /// Groups web (mark 1000), dns (0x10, `any` port 53) and ranges (mark 1001, one IPv4 port range).
    static func setUp() throws -> Netns {
        let ns = try Netns()
        let r = try ns.lvsh("-c", """
            group web vip 192.168.61.129 tcp 80,443 ; group web add vip 2001:db8::80 tcp 8000-8100
            group dns vip any udp 53 tcp 53 mark 0x10
            group ranges vip 10.0.0.1 tcp 1000-2000
            """)
        #expect(r.status == 0, "\(r)")
        return ns
    }

    struct Case: CustomStringConvertible, Sendable {
        /// lvsh's arguments; "FILE" stands for a batch file holding `file`.
        var args: [String]
        var file: String? = nil
        /// Phrases stderr must contain (the first usually with FILE:LINE:COL).
        var phrases: [String]
        var description: String { (args + (file.map { ["<<", $0] } ?? [])).joined(separator: " ") }
    }

    static let cases: [Case] = [
        // Overlaps name both groups, whichever path checks them.
        Case(args: ["group", "api", "vip", "192.168.61.129", "tcp", "443-444"],
             phrases: ["command line:1:1: group api: '192.168.61.129 tcp 443-444' overlaps '192.168.61.129 tcp 443' of group web"]),
        Case(args: ["-c", "group x vip any tcp 8000"],
             phrases: ["-c:1:1: group x: 'any tcp 8000' overlaps '2001:db8::80 tcp 8000-8100' of group web"]),
        // Entry edits: checked when applied, by the kernel and the backend's fast path.
        Case(args: ["group", "dns", "add", "vip", "192.168.61.129", "tcp", "80"],
             phrases: ["command line:1:1: group dns: '192.168.61.129 tcp 80' overlaps '192.168.61.129 tcp 80' of group web"]),
        // A range that encloses an element: the kernel itself would take this one.
        Case(args: ["group", "web", "add", "vip", "10.0.0.1", "tcp", "500-3000"],
             phrases: ["group web: '10.0.0.1 tcp 500-3000' overlaps '10.0.0.1 tcp 1000-2000' of group ranges"]),
        Case(args: ["group", "web", "add", "vip", "10.0.0.7", "udp", "53"],
             phrases: ["group web: '10.0.0.7 udp 53' overlaps 'any udp 53' of group dns"]),
        Case(args: ["group", "dns", "add", "vip", "any", "tcp", "440-450"],
             phrases: ["group dns: 'any tcp 440-450' overlaps '192.168.61.129 tcp 443' of group web"]),
        Case(args: ["group", "web", "add", "vip", "192.168.61.129", "tcp", "80"],
             phrases: ["group web already has the entry '192.168.61.129 tcp 80'"]),
        Case(args: ["-c", "group web add vip 10.9.9.9 tcp 1-5; group web add vip 10.9.9.9 tcp 5"],
             phrases: ["-c:1:37: group web: entries '10.9.9.9 tcp 1-5' and '10.9.9.9 tcp 5' overlap"]),
        // Deleting an entry that another group holds (the kernel deletes by key, whatever the mark).
        Case(args: ["group", "dns", "del", "vip", "192.168.61.129", "tcp", "80"],
             phrases: ["group dns has no entry '192.168.61.129 tcp 80'"]),
        Case(args: ["group", "web", "del", "vip", "10.0.0.1", "tcp", "1000"],
             phrases: ["group web has no entry '10.0.0.1 tcp 1000'"]),
        Case(args: ["group", "nosuch", "add", "vip", "10.0.0.1", "tcp", "1"],
             phrases: ["there is no group nosuch; create it first"]),
        Case(args: ["no", "group", "nosuch"], phrases: ["there is no group nosuch"]),
        // Batch files: FILE:LINE:COL of the command at fault, and nothing of the file applied.
        Case(args: ["-f", "FILE"], file: """
            # entry edits only
            group web add vip 10.0.0.9 tcp 9
              group dns add vip 10.0.0.1 tcp 1500
            """, phrases: [":3:3: group dns: '10.0.0.1 tcp 1500' overlaps '10.0.0.1 tcp 1000-2000' of group ranges",
                           "  group dns add vip 10.0.0.1 tcp 1500\n    ^"]),
        Case(args: ["-f", "FILE"], file: """
            group new vip 10.3.3.3 tcp 1
            group web add vip 10.0.0.9 tcp 9

            group api vip 10.0.0.9 tcp 9
            """, phrases: [":4:1: group api: '10.0.0.9 tcp 9' overlaps '10.0.0.9 tcp 9' of group web"]),
        Case(args: ["-f", "FILE"], file: "group ok vip 10.3.3.3 tcp 1\ngroup x vip 10.0.0.1 tcp 80-70\n",
             phrases: [":2:26: range 80-70 runs backwards: write 70-80"]),
        // Ports and ranges.
        Case(args: ["group", "x", "vip", "10.0.0.1", "tcp", "70000"], phrases: ["'70000' is not a port or a range LOW-HIGH (ports are 1 to 65535)"]),
        Case(args: ["-c", "group x vip 10.0.0.1 tcp 0"], phrases: ["-c:1:26: port 0 cannot be matched: ports are 1 to 65535"]),
        Case(args: ["-c", "group x vip 10.0.0.1 udp 1-"], phrases: ["-c:1:26: '1-' is not a port or a range LOW-HIGH"]),
        Case(args: ["-c", "group x vip 10.0.0.1 tcp 80,,443"], phrases: ["-c:1:26:", "is not a port"]),
        // Addresses. A one-shot command's column and caret point at the word in the echoed line.
        Case(args: ["group", "web", "vip", "1.2.3.999", "tcp", "80"],
             phrases: ["command line:1:15: '1.2.3.999' is not an IPv4 or IPv6 address",
                       "\n  group web vip 1.2.3.999 tcp 80\n                ^\n"]),
        Case(args: ["-c", "group x vip 10.0.0.300 tcp 1"], phrases: ["-c:1:13: '10.0.0.300' is not an IPv4 or IPv6 address"]),
        Case(args: ["-c", "group x vip 2001:db8::zz tcp 1"], phrases: ["-c:1:13: '2001:db8::zz' is not an IPv4 or IPv6 address"]),
        Case(args: ["-c", "group x vip 10.0.0.1,,10.0.0.2 tcp 1"], phrases: ["-c:1:13: '' is not an IPv4 or IPv6 address"]),
        // IPv4-mapped IPv6 addresses and signed numbers (lvsh's language; `lvsh ipvsadm` takes what ipvsadm takes).
        Case(args: ["-c", "group x vip ::ffff:10.0.0.1 tcp 1"],
             phrases: ["-c:1:13: '::ffff:10.0.0.1' is an IPv4-mapped IPv6 address: write the IPv4 address 10.0.0.1"]),
        Case(args: ["group", "x", "vip", "10.0.0.1", "tcp", "+80"], phrases: ["command line:1:26: '+80' has a sign"]),
        Case(args: ["-c", "group x vip 10.9.9.9 tcp 1 mark +7"], phrases: ["-c:1:33: '+7' has a sign"]),
        // Marks.
        Case(args: ["-c", "group x vip 10.9.9.9 tcp 1 mark 1000"],
             phrases: ["-c:1:1: group x: mark 1000 is already used by group web; choose another mark or leave it out"]),
        Case(args: ["-c", "group web mark 0x10"], phrases: ["group web: mark 16 is already used by group dns"]),
        Case(args: ["-c", "group x vip 10.9.9.9 tcp 1 mark 0"], phrases: ["-c:1:33: '0' is not a mark: give 1 to 4294967295"]),
        Case(args: ["-c", "group x vip 10.9.9.9 tcp 1 mark 0x0"], phrases: ["'0x0' is not a mark"]),
        Case(args: ["-c", "group x vip 10.9.9.9 tcp 1 mark 4294967296"], phrases: ["'4294967296' is not a mark"]),
        // Protocols.
        Case(args: ["-c", "group x vip 10.0.0.1 icmp 1"], phrases: ["-c:1:22: unexpected 'icmp': expected tcp, udp or sctp"]),
        Case(args: ["-c", "group web add vip 10.0.0.1 gre 1"], phrases: ["unexpected 'gre': expected tcp, udp or sctp"]),
        // Names.
        Case(args: ["-c", "group 9x vip 10.9.9.9 tcp 1"], phrases: ["-c:1:7: '9x' is not a valid name: use letters, digits, '-', '_' or '.', starting with a letter"]),
        Case(args: ["group", "a/b", "vip", "10.9.9.9", "tcp", "1"], phrases: ["'a/b' is not a valid name"]),
        Case(args: ["-c", "group \(String(repeating: "n", count: 65)) vip 10.9.9.9 tcp 1"], phrases: ["is not a valid name"]),
    ]

    @Test("bad input: precise message, exit 2, ruleset unchanged", arguments: cases)
    func badInput(_ c: Case) throws {
        let ns = try Self.setUp()
        let before = try ns.sh("nft -j list ruleset")
        var args = c.args
        if let text = c.file, let i = args.firstIndex(of: "FILE") { args[i] = try ns.file("bad.lvsh", text) }
        let r = try ns.run([CLILab.lvsh] + args)
        #expect(r.status == 2, "\(r)")
        for phrase in c.phrases { #expect(r.err.contains(phrase), "missing \"\(phrase)\" in\n\(r.err)") }
        if let i = args.firstIndex(of: "-f") { #expect(r.err.hasPrefix(args[i + 1] + ":"), "\(r.err)") }
        #expect(try ns.sh("nft -j list ruleset") == before)
    }

    @Test("--dry-run checks entry edits against the groups before anything is sent")
    func dryRun() throws {
        let ns = try Self.setUp()
        let before = try ns.sh("nft -j list ruleset")
        let bad = try ns.lvsh("--dry-run", "group", "web", "add", "vip", "10.0.0.1", "tcp", "1500")
        #expect(bad.status == 2)
        #expect(bad.err.contains("overlaps '10.0.0.1 tcp 1000-2000' of group ranges"), "\(bad)")
        let good = try ns.lvsh("--dry-run", "group", "web", "add", "vip", "10.0.0.1", "tcp", "2500")
        #expect(good.status == 0 && good.out == "1. add entries to group web\n", "\(good)")
        #expect(try ns.sh("nft -j list ruleset") == before)
    }
}
