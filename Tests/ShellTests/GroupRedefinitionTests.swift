import LVSModel
@testable import Shell
import Testing

/// Re-defining a group with fewer ports says what it removes; --dry-run shows what goes and comes.
struct GroupRedefinitionTests {
    final class Host {
        let marks = FakeMarks()
        var out = "", err = ""
        func run(_ script: String, dryRun: Bool = false) -> Int32 {
            out = ""
            err = ""
            let session = Session(options: SessionOptions(dryRun: dryRun), control: FakeIPVS(), backend: marks,
                                  out: { self.out += $0 }, err: { self.err += $0 }, runtime: { () throws(LVSError) in nil })
            return session.runBatch(script, name: "t.lvsh")
        }
    }

    @Test func redefiningWithFewerPortsSaysWhatGoes() {
        let host = Host()
        #expect(host.run("group web vip 192.0.2.1 tcp 80,443") == 0)
        #expect(host.err.isEmpty)
        #expect(host.run("group web vip 192.0.2.1 tcp 80,8443", dryRun: true) == 0)
        #expect(host.out.contains("1. replace the entries of group web: adds tcp 8443 on 192.0.2.1; removes tcp 443 on 192.0.2.1"))
        #expect(host.err.contains("group web: removes tcp 443 on 192.0.2.1"))
        #expect(host.run("group web vip 192.0.2.1 tcp 80") == 0)
        #expect(host.err.contains("t.lvsh:1:1: warning: group web: removes tcp 443 on 192.0.2.1"))
        #expect(host.marks.stored.first?.entries.map(\.ports) == [80...80])
        // The same entries again, or more of them: nothing to warn about.
        #expect(host.run("group web vip 192.0.2.1 tcp 80") == 0)
        #expect(host.err.isEmpty)
        #expect(host.run("group web vip 192.0.2.1 tcp 80,443") == 0)
        #expect(host.err.isEmpty)
    }

    @Test("a batch is judged by its end: entries a later line adds back are not said to go")
    func theBatchEndDecides() {
        let host = Host()
        #expect(host.run("group web vip 192.0.2.1,192.0.2.2 tcp 80,443") == 0)
        // A saved configuration re-defines with the first clause, then adds the others.
        #expect(host.run("group web vip 192.0.2.1 tcp 80,443 mark 1000\ngroup web add vip 192.0.2.2 tcp 80,443") == 0)
        #expect(host.err.isEmpty, "\(host.err)")
        #expect(host.run("group web vip 192.0.2.1 tcp 80\ngroup web add vip 192.0.2.2 tcp 80") == 0)
        #expect(host.err == "t.lvsh:1:1: warning: group web: removes tcp 443 on 192.0.2.1, 192.0.2.2 (re-defining a group replaces its entries; `group web add ...` adds to them)\n")
        // Removing the group afterwards is no accident to warn about.
        #expect(host.run("group web vip 192.0.2.1 tcp 22\nno group web") == 0)
        #expect(host.err.isEmpty, "\(host.err)")
    }
}
