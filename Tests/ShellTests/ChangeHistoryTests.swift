import Foundation
import LVSModel
@testable import Shell
import System
import Testing
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

/// Committed changes recorded through a session on the in-memory namespace: the archive holds the
/// running configuration after each, the log a line for each (failed ones too), and `rollback N`
/// brings archive N back through apply.
struct ChangeHistoryTests {
    final class Recorded {
        let host = EngineTests.Host()
        let scratch: ScratchFolder
        let log: DatagramListener
        let history: ChangeHistory

        init() throws {
            scratch = try ScratchFolder()
            log = try DatagramListener(scratch.at("log.sock"))
            history = ChangeHistory(archive: ConfigArchive(base: scratch.at("state")), log: ChangeLogSocket(path: log.path, format: .syslog))
        }

        func session(_ options: SessionOptions = SessionOptions()) -> Session {
            let s = host.session(options)
            s.history = history
            return s
        }

        func run(_ script: String, name: String = "t.lvsh", _ options: SessionOptions = SessionOptions()) -> Int32 {
            host.out = ""
            host.err = ""
            return session(options).runBatch(script, name: name)
        }

        func line(_ words: String, _ options: SessionOptions = SessionOptions()) -> Int32 {
            host.out = ""
            host.err = ""
            return session(options).runCommandLine(words.split(separator: " ").map(String.init))
        }
    }

    @Test("each committed batch is archived as the running configuration after it, and logged with its front")
    func batchesAreRecorded() throws {
        let r = try Recorded()
        #expect(r.run("service tcp 10.0.0.5:80 scheduler rr\nreal tcp 10.0.0.5:80 192.168.1.10 nat", name: "console") == 0, "\(r.host.err)")
        #expect(r.line("real tcp 10.0.0.5:80 192.168.1.11 nat weight 2") == 0, "\(r.host.err)")
        // A show commits nothing: nothing is recorded.
        #expect(r.line("show services") == 0)
        let entries = try r.history.archive.entries()
        #expect(entries.count == 2)
        let newest = try r.history.archive.text(0)
        #expect(newest.contains("# front: command-line\n") && newest.contains("# source: real tcp 10.0.0.5:80 192.168.1.11 nat weight 2\n"))
        #expect(newest.contains("# summary: 1 change: "))
        // The configuration part is what `show running-config` prints now.
        #expect(r.line("show running-config") == 0)
        #expect(newest.hasSuffix(r.host.out))
        let header = try #require(ChangeRecord(header: Substring(try r.history.archive.text(1))))
        // Two commands, and the forwarding NAT needs (auto-sysctl): three changes.
        #expect(header.front == "console" && header.summary.hasPrefix("3 changes: add service tcp 10.0.0.5:80"), "\(header.summary)")
        let lines = r.log.lines()
        #expect(lines.count == 2)
        #expect(lines.allSatisfy { $0.hasPrefix("<29>") && $0.contains(" lvsh[\(getpid())]: change: ") }, "\(lines)")
        #expect(lines[0].contains("front=console") && lines[0].contains("result=ok") && lines[0].contains("changes=3"))
        #expect(lines[1].contains("front=command-line"))
    }

    @Test("a batch the kernel refuses is logged as failed and not archived")
    func failureIsLoggedNotArchived() throws {
        let r = try Recorded()
        #expect(r.run("service tcp 10.0.0.5:80 scheduler rr") == 0)
        var options = SessionOptions()
        options.failStep = 1
        #expect(r.run("service tcp 10.0.0.6:80 scheduler rr", options) == 1)
        #expect(try r.history.archive.entries().count == 1)
        let lines = r.log.lines()
        #expect(lines.count == 2)
        #expect(lines[1].hasPrefix("<27>") && lines[1].contains("result=\"failed: "), "\(lines)")
    }

    @Test("rollback 1 applies the configuration before the last change (pruning), and is itself recorded")
    func rollbackRestores() throws {
        let r = try Recorded()
        #expect(r.run("group web vip 192.168.61.129 tcp 80,443\nservice web scheduler wlc\nreal web 192.168.147.129 nat") == 0, "\(r.host.err)")
        let before = r.host.ipvs.saved
        let groups = r.host.marks.stored
        #expect(r.run("service tcp 10.0.0.5:25 scheduler rr\nreal web 192.168.147.130 nat\ngroup api vip 10.1.1.1 udp 53") == 0, "\(r.host.err)")
        #expect(r.host.ipvs.saved != before)
        #expect(r.line("show diff archive 1") == 0)
        #expect(r.host.out.contains("-service tcp 10.0.0.5:25"), "\(r.host.out)")
        #expect(r.line("rollback 1") == 0, "\(r.host.err)")
        #expect(r.host.ipvs.saved == before)
        #expect(r.host.marks.stored.map(\.name) == groups.map(\.name))
        let newest = try #require(ChangeRecord(header: Substring(try r.history.archive.text(0))))
        #expect(newest.front == "rollback" && newest.source == "archive 1")
        // The archive's configuration after the rollback is the one rolled back to.
        let strip = { (t: String) in t.split(separator: "\n").filter { !$0.hasPrefix("# ") }.joined(separator: "\n") }
        #expect(strip(try r.history.archive.text(0)) == strip(try r.history.archive.text(2)))
        #expect(r.line("rollback 7") == 2)
        #expect(r.host.err.contains("the archive holds 0 to 2"), "\(r.host.err)")
    }

    @Test("apply is recorded with its file; --check is not")
    func applyIsRecorded() throws {
        let r = try Recorded()
        let file = r.scratch.at("site.lvsh")
        try r.scratch.put("site.lvsh", "service tcp 10.0.0.7:80 scheduler rr\n")
        var check = SessionOptions()
        check.apply.check = true
        #expect(r.line("apply \(file)", check) == 0)
        #expect(try r.history.archive.entries().isEmpty)
        #expect(r.line("apply \(file)") == 0, "\(r.host.err)")
        let header = try #require(ChangeRecord(header: Substring(try r.history.archive.text(0))))
        #expect(header.front == "apply" && header.source == file)
        #expect(r.log.lines().count == 1)
    }

    @Test("an archive that cannot be written does not fail the change: one warning, and the log says archive=none")
    func brokenArchiveWarnsOnce() throws {
        let r = try Recorded()
        let base = r.scratch.at("state")
        #expect(mkdir(base, 0o755) == 0)
        try r.scratch.put("state/archive", "not a folder\n")
        #expect(r.run("service tcp 10.0.0.5:80 scheduler rr") == 0)
        #expect(r.host.ipvs.saved.contains("-A -t 10.0.0.5:80 -s rr"))
        // Warned once per process: an earlier test of this process may have had its warning already.
        #expect(r.host.err.isEmpty || r.host.err.contains("the change is made, but it was not archived"), "\(r.host.err)")
        #expect(r.log.lines().first?.contains("archive=none") == true)
    }

    @Test("one archive serves every namespace: N counts only this namespace's entries")
    func otherNamespacesLeftOut() throws {
        let r = try Recorded()
        #expect(r.run("service tcp 10.0.0.5:80 scheduler rr") == 0)
        let other = ChangeRecord(time: "2026-12-03T10:30:00Z", user: "root", tty: "-", front: "batch", source: "x", summary: "1 change: y",
                                 namespace: "net-1")
        try r.history.archive.append(other.header + "service tcp 10.9.9.9:80 scheduler rr\n")
        #expect(try r.history.archive.entries().count == 2)
        #expect(r.line("show archive json") == 0)
        let json = try JSONSerialization.jsonObject(with: Data(r.host.out.utf8)) as? [String: Any]
        let rows = try #require(json?["archive"] as? [[String: Any]])
        #expect(rows.count == 1 && rows[0]["source"] as? String == "t.lvsh", "\(rows)")
        #expect(try !r.history.text(0).contains("10.9.9.9"))
        #expect(r.line("rollback 1") == 2)
        #expect(r.host.err.contains("holds 0 to 0 for this network namespace"), "\(r.host.err)")
    }

    @Test("commands sharing a line (-c 'a; b') give the line once as the source")
    func oneLineOnce() throws {
        let r = try Recorded()
        #expect(r.run("service tcp 10.0.0.6:80 scheduler rr; service tcp 10.0.0.7:80 scheduler rr", name: "-c") == 0)
        let header = try #require(ChangeRecord(header: Substring(try r.history.archive.text(0))))
        #expect(header.source == "-c service tcp 10.0.0.6:80 scheduler rr; service tcp 10.0.0.7:80 scheduler rr")
    }

    @Test("lvsh ipvsadm's own path is recorded with its command line; a listing is not")
    func ipvsadmIsRecorded() throws {
        let r = try Recorded()
        #expect(r.session().runIPVSAdm(["-L", "-n"]) == 0)
        #expect(r.session().runIPVSAdm(["-A", "-t", "10.0.0.9:80", "-s", "rr"]) == 0, "\(r.host.err)")
        let header = try #require(ChangeRecord(header: Substring(try r.history.archive.text(0))))
        #expect(header.front == "ipvsadm" && header.source == "ipvsadm -A -t 10.0.0.9:80 -s rr")
        #expect(try r.history.archive.text(0).contains("service tcp 10.0.0.9:80 scheduler rr"))
        #expect(try r.history.archive.entries().count == 1)
        #expect(r.log.lines().count == 1)
    }

    @Test("save with no FILE writes the session's boot configuration")
    func saveWithoutFile() throws {
        let r = try Recorded()
        var options = SessionOptions()
        options.bootConfigPath = r.scratch.at("running.lvsh")
        #expect(r.run("service tcp 10.0.0.5:80 scheduler rr\nsave", options) == 0, "\(r.host.err)")
        #expect(r.scratch.read("running.lvsh")?.contains("service tcp 10.0.0.5:80 scheduler rr") == true)
    }

    @Test("journald gets the line as MESSAGE with fields; syslog an RFC 3164 line of facility daemon")
    func datagrams() {
        let journal = ChangeLogSocket(path: "/x", format: .journal).datagram("change: a\nb", failed: true, fields: [("LVSH_FRONT", "console")])
        #expect(journal == "MESSAGE=change: a | b\nPRIORITY=3\nSYSLOG_IDENTIFIER=lvsh\nSYSLOG_FACILITY=3\nLVSH_FRONT=console\n")
        let line = ChangeLogSocket(path: "/x", format: .syslog).datagram("change: a", failed: false)
        #expect(line.hasPrefix("<29>") && line.hasSuffix(" lvsh[\(getpid())]: change: a"), "\(line)")
        #expect(ChangeHistory.front(ofBatch: "ipvsadm", text: "ipvsadm -A -t 10.0.0.1:80") == ("ipvsadm", "ipvsadm -A -t 10.0.0.1:80"))
    }

    @Test("the header reads back as written, values on one line")
    func headerRoundTrip() {
        let record = ChangeRecord(time: "2026-12-03T10:30:00Z", user: "root (sudo from ann)", tty: "/dev/pts/1", front: "batch",
                                  source: "-c service tcp 10.0.0.5:80\nreal ...", summary: ChangeRecord.summary(of: ["a", "b", "c", "d", "e"]))
        let back = ChangeRecord(header: Substring(record.header + "# lvsh running configuration\n"))
        #expect(back?.source == "-c service tcp 10.0.0.5:80 | real ...")
        #expect(back?.summary == "5 changes: a; b; c; and 2 more")
        #expect(back?.user == "root (sudo from ann)" && back?.tty == "/dev/pts/1" && back?.time == record.time)
        #expect(ChangeRecord(header: "# lvsh running configuration\n") == nil)
    }
}
