import Foundation
import Testing

/// Control bytes and huge words that users type are never echoed raw: not in lvsh's messages, not in
/// ipvsadm's, not in the echoed source line.
@Suite(.enabled(if: CLILab.available, "needs root, ip, nft and the lvsh binary (swift build)"))
struct ShownCLITests {
    @Test("control bytes in a word are escaped in the message and the echoed line")
    func controlBytes() throws {
        let ns = try Netns()
        for args in [["group", "we\u{1b}[2Jb", "vip", "10.0.0.1", "tcp", "80"],
                     ["-c", "group we\u{1b}[2Jb vip 10.0.0.1 tcp 80"],
                     ["-c", "show groups | include (\u{1b}[2J"],
                     ["ipvsadm", "-A", "-t", "10.0.0.1\u{1b}[2J:80"],
                     ["--json", "group", "we\u{1b}[2Jb", "vip", "10.0.0.1", "tcp", "80"]] {
            let r = try ns.run([CLILab.lvsh] + args)
            #expect(r.status == 2, "\(args): \(r)")
            #expect(!r.err.contains("\u{1b}") && r.err.contains("\\x1b") || r.err.contains("\\u001b"), "\(args): \(r)")
        }
    }

    @Test("a megabyte word is cut in the message and in the echoed line")
    func hugeWord() throws {
        let ns = try Netns()
        let file = try ns.file("huge.lvsh", "group web vip \(String(repeating: "9", count: 1 << 20)) tcp 80\n")
        let r = try ns.lvsh("-f", file)
        #expect(r.status == 2)
        #expect(r.err.count < 2000, "\(r.err.prefix(3000))")
        #expect(r.err.contains(":1:15: '" + String(repeating: "9", count: 64) + "…' is not an IPv4 or IPv6 address"), "\(r.err.prefix(3000))")
        let words = try ns.lvsh("group", "web", "vip", String(repeating: "9", count: 100_000), "tcp", "80")
        #expect(words.status == 2)
        #expect(words.err.count < 2000, "\(words.err.prefix(3000))")
    }
}
