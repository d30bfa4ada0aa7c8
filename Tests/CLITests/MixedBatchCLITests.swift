import Foundation
import Testing

/// Batches that mix changes with load, apply, confirm, set, save, show and ipvsadm lines, on the
/// machine's kernel in fresh namespaces: each finishes (a timeout would mean a deadlock on lvsh's own
/// lock), and is all or nothing — a refusal leaves `nft -j list ruleset` byte-identical and writes no file.
@Suite(.enabled(if: CLILab.available, "needs root, ip, nft and the lvsh binary (swift build)"))
struct MixedBatchCLITests {
    /// lvsh with a time limit: a batch waiting on its own lock ends as exit 124.
    static func lvsh(_ ns: Netns, _ args: String..., input: String = "") throws -> CLILab.Result {
        try ns.run(["timeout", "20", CLILab.lvsh] + args, input: input)
    }

    @Test("a change, then load of a file: one transaction, no wait on lvsh's own lock")
    func changeThenLoad() throws {
        let ns = try Netns()
        let f = try ns.file("b.lvsh", "group b vip 192.0.2.2 tcp 81\n")
        let r = try Self.lvsh(ns, "-c", "group a vip 192.0.2.1 tcp 80; load \(f)")
        #expect(r.status == 0, "\(r)")
        #expect(try ns.lvsh("show", "groups").out == "group a vip 192.0.2.1 tcp 80 mark 1000\ngroup b vip 192.0.2.2 tcp 81 mark 1001\n")
        // load first, then a change; and a file that loads another.
        let g = try ns.file("c.lvsh", "load \(f)\ngroup c vip 192.0.2.3 tcp 82\n")
        let r2 = try Self.lvsh(ns, "-c", "no group b; load \(g); group d vip 192.0.2.4 tcp 83")
        #expect(r2.status == 0, "\(r2)")
        #expect(try ns.lvsh("show", "groups").out.split(separator: "\n").count == 4)
    }

    @Test("a file the batch loads is checked with it: a bad line in it applies nothing, located in that file")
    func loadedFileRefused() throws {
        let ns = try Netns()
        let before = try ns.sh("nft -j list ruleset")
        let f = try ns.file("bad.lvsh", "group ok vip 192.0.2.9 tcp 9\ngroup x vip 192.0.2.300 tcp 1\n")
        let r = try Self.lvsh(ns, "-c", "group a vip 192.0.2.1 tcp 80; load \(f)")
        #expect(r.status == 2, "\(r)")
        #expect(r.err.contains("\(f):2:13: '192.0.2.300' is not an IPv4 or IPv6 address"), "\(r)")
        #expect(try ns.sh("nft -j list ruleset") == before)
        let loop = try ns.file("loop.lvsh", "")
        try "load \(loop)\n".write(toFile: loop, atomically: true, encoding: .utf8)
        let r2 = try Self.lvsh(ns, "-c", "group a vip 192.0.2.1 tcp 80; load \(loop)")
        #expect(r2.status == 2 && r2.err.contains("a file cannot load itself"), "\(r2)")
        #expect(try ns.sh("nft -j list ruleset") == before)
    }

    @Test("apply, confirm, show diff and ipvsadm -R run alone: mixed with a change, refused before anything is applied",
          arguments: ["apply FILE", "confirm", "show diff FILE", "ipvsadm -R"])
    func aloneCommands(_ command: String) throws {
        let ns = try Netns()
        let before = try ns.sh("nft -j list ruleset")
        let f = try ns.file("site.lvsh", "group s vip 192.0.2.8 tcp 8\n")
        let line = "group a vip 192.0.2.1 tcp 80; " + command.replacingOccurrences(of: "FILE", with: f)
        let r = try Self.lvsh(ns, "-c", line)
        #expect(r.status == 2, "\(r)")
        #expect(r.err.contains("runs as a batch of its own"), "\(r)")
        #expect(try ns.sh("nft -j list ruleset") == before)
        // Alone, each finishes.
        let alone = try Self.lvsh(ns, "-c", command.replacingOccurrences(of: "FILE", with: f))
        #expect(alone.status != 124, "\(alone)")
    }

    @Test("a bad setting, save or show in the middle refuses the whole batch; nothing applied, no file written",
          arguments: ["set backend bogus", "save MISSING/x.lvsh", "save /dev/null", "show services", "ipvsadm -L -n"])
    func refusedInTheMiddle(_ middle: String) throws {
        let ns = try Netns()
        let before = try ns.sh("nft -j list ruleset")
        let conf = try ns.file("lvsh.conf", "")
        unlink(conf)
        // This kernel has no IPVS: `show services` and `ipvsadm -L -n` cannot be answered.
        // A folder that does not exist, in the test's own temporary folder: save never creates folders.
        let missing = NSTemporaryDirectory() + "\(ns.name)-missing"
        let middle = middle.replacingOccurrences(of: "MISSING", with: missing)
        let r = try Self.lvsh(ns, "--config", conf, "-c", "group c vip 192.0.2.3 tcp 80; \(middle); group d vip 192.0.2.4 tcp 80")
        #expect(r.status != 0 && r.status != 124, "\(r)")
        #expect(r.out.isEmpty, "no output of a batch that did not happen: \(r)")
        #expect(try ns.sh("nft -j list ruleset") == before)
        #expect(!FileManager.default.fileExists(atPath: conf))
        #expect(!FileManager.default.fileExists(atPath: missing))
    }

    @Test("shows and save see the batch's state at their place; files are written after the commit")
    func showsSeeTheCandidate() throws {
        let ns = try Netns()
        let saved = try ns.file("saved.lvsh", "")
        unlink(saved)
        let r = try Self.lvsh(ns, "-c", "group e vip 192.0.2.5 tcp 80; show groups | include group; save \(saved); show rules; group f vip 192.0.2.6 tcp 80; show groups json")
        #expect(r.status == 0, "\(r)")
        let lines = r.out.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.first == "group e vip 192.0.2.5 tcp 80 mark 1000", "\(r)")
        #expect(r.out.contains("saved to \(saved)"))
        #expect(r.out.contains("192.0.2.5 . tcp . 80 : 0x000003e8"), "show rules renders the batch's table: \(r)")
        #expect(r.out.contains(#""name":"f""#), "\(r)")
        let file = try String(contentsOfFile: saved, encoding: .utf8)
        #expect(file.contains("group e vip 192.0.2.5 tcp 80 mark 1000") && !file.contains("group f"), "\(file)")
        #expect(try ns.lvsh("show", "groups").out.contains("group f vip 192.0.2.6 tcp 80 mark 1001"))
    }

    @Test("quit ends a batch from standard input: what follows it is not run")
    func quitEndsStdin() throws {
        let ns = try Netns()
        let r = try Self.lvsh(ns, input: "group a vip 192.0.2.1 tcp 80\nquit\ngroup b vip 192.0.2.2 tcp 81\n")
        #expect(r.status == 0, "\(r)")
        #expect(try ns.lvsh("show", "groups").out == "group a vip 192.0.2.1 tcp 80 mark 1000\n")
    }

    @Test("apply --confirm's rollback timer killed before its time: confirm says so and clears the marker")
    func confirmAfterTheTimerWasKilled() throws {
        let ns = try Netns()
        let first = try ns.file("first.lvsh", "group a vip 192.0.2.1 tcp 80\n")
        let second = try ns.file("second.lvsh", "group a vip 192.0.2.1 tcp 81\n")
        let dir = try ns.sh(#"echo "$LVSH_RUNTIME_DIR/net-$(stat -L -c %i /proc/self/ns/net)""#)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        // A live timer: confirmed.
        #expect(try Self.lvsh(ns, "apply", first, "--confirm", "120").status == 0)
        #expect(try Self.lvsh(ns, "confirm").out == "confirmed: the applied state stays\n")
        _ = try CLILab.run(["pkill", "-9", "-f", "^lvsh internal-rollback \(dir) "])
        // A timer killed with SIGKILL: the marker stays, and confirm tells it from a live one.
        #expect(try Self.lvsh(ns, "apply", second, "--confirm", "120").status == 0)
        #expect(FileManager.default.fileExists(atPath: dir + "/pending"))
        // Anchored: the shell whose command line names the waiter is not the waiter.
        let killed = try CLILab.run(["sh", "-c", "p=$(pgrep -f '^lvsh internal-rollback \(dir) ') && kill -9 $p && while kill -0 $p 2>/dev/null; do sleep 0.05; done"])
        #expect(killed.status == 0, "\(killed)")
        let c = try Self.lvsh(ns, "confirm")
        #expect(c.status == 0 && c.out.contains("the rollback timer of the last apply --confirm is gone"), "\(c)")
        #expect(!FileManager.default.fileExists(atPath: dir + "/pending"))
        #expect(try Self.lvsh(ns, "confirm").out.contains("no apply --confirm is pending"))
        #expect(try ns.lvsh("show", "groups").out == "group a vip 192.0.2.1 tcp 81 mark 1000\n")
    }

    @Test("confirm after a change in its own call, and two writers at once: neither waits for ever")
    func confirmAndConcurrentWriters() throws {
        let ns = try Netns()
        #expect(try Self.lvsh(ns, "group", "a", "vip", "192.0.2.1", "tcp", "80").status == 0)
        let c = try Self.lvsh(ns, "confirm")
        #expect(c.status == 0 && c.out.contains("nothing to confirm"), "\(c)")
        let group = DispatchGroup()
        final class Box: @unchecked Sendable { var results: [Int32] = [] }
        let box = Box()
        let lock = NSLock()
        for i in 0..<4 {
            group.enter()
            DispatchQueue.global().async {
                let r = try? Self.lvsh(ns, "-c", "group w\(i) vip 192.0.3.\(i + 1) tcp 80")
                lock.lock(); box.results.append(r?.status ?? -1); lock.unlock()
                group.leave()
            }
        }
        group.wait()
        #expect(box.results == [0, 0, 0, 0])
        #expect(try ns.lvsh("show", "groups").out.split(separator: "\n").count == 5)
    }

    @Test("apply --diff shows only what the plan changes: no timeout line on a kernel whose IPVS cannot be read")
    func applyDiffWithoutTimeouts() throws {
        let ns = try Netns()
        let f = try ns.file("g.lvsh", "group web vip 192.0.2.1 tcp 80\n")
        let r = try Self.lvsh(ns, "apply", f, "--check", "--diff")
        #expect(r.status == 0, "\(r)")
        #expect(r.out.contains("+group web vip 192.0.2.1 tcp 80 mark 1000"), "\(r)")
        #expect(!r.out.contains("timeout"), "\(r)")
    }

    @Test("--exit-code: apply --check and show diff exit 3 while changes are pending, 0 in sync; without it 0 either way")
    func exitCodeForCron() throws {
        let ns = try Netns()
        let f = try ns.file("g.lvsh", "group web vip 192.0.2.1 tcp 80\n")
        let before = try ns.sh("nft -j list ruleset")
        #expect(try Self.lvsh(ns, "apply", f, "--check", "--exit-code").status == 3)
        #expect(try Self.lvsh(ns, "apply", f, "--check").status == 0)
        #expect(try Self.lvsh(ns, "show", "diff", f, "--exit-code").status == 3)
        #expect(try Self.lvsh(ns, "-c", "show diff \(f)", "--exit-code").status == 3)
        #expect(try ns.sh("nft -j list ruleset") == before, "a check writes nothing")
        #expect(try Self.lvsh(ns, "apply", f).status == 0)
        #expect(try Self.lvsh(ns, "apply", f, "--check", "--exit-code").status == 0)
        #expect(try Self.lvsh(ns, "show", "diff", f, "--exit-code").status == 0)
        // A bad file is still 2, not 3.
        let bad = try ns.file("bad.lvsh", "group web vip 192.0.2.300 tcp 80\n")
        #expect(try Self.lvsh(ns, "apply", bad, "--check", "--exit-code").status == 2)
    }

    @Test("an endless input (/dev/zero as a file, through load, or as standard input) is refused at a limit, nothing applied")
    func endlessInput() throws {
        let ns = try Netns()
        let before = try ns.sh("nft -j list ruleset")
        for args in [["-f", "/dev/zero"], ["-c", "group a vip 192.0.2.1 tcp 80; load /dev/zero"]] {
            let r = try ns.run(["timeout", "120", CLILab.lvsh] + args)
            #expect(r.status == 2, "\(args): \(r.status) \(r.err.prefix(300))")
            #expect(r.err.contains("is larger than 256 MiB"), "\(r.err.prefix(300))")
        }
        let r = try ns.run(["sh", "-c", "timeout 120 \(CLILab.lvsh) ipvsadm -R < /dev/zero"])
        #expect(r.status == 2 && r.err.contains("standard input is larger than 256 MiB"), "\(r.status) \(r.err.prefix(300))")
        #expect(try ns.sh("nft -j list ruleset") == before)
    }
}
