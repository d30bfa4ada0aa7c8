import Foundation
import Testing
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

/// The change history of the lvsh binary in a fresh namespace, witnessed by nft: each committed change
/// is logged and archived, `rollback 1` brings the configuration before the last change back; with
/// `lvsh daemon` the daemon records what it commits (a front's batch, a reload), and `save` with no
/// FILE writes the daemon's FILE.
@Suite(.enabled(if: UnsharedNetns.available, "needs root, nft, unshare, nsenter and the lvsh binary (swift build)"))
struct HistoryCLITests {
    @Test("console-less fronts: each change logged and archived; rollback 1 restores the groups nft lists")
    func rollbackThroughTheBinary() throws {
        let ns = try UnsharedNetns()
        let folder = try TestFolder()
        let log = try DatagramListener(folder.at("log.sock"))
        let env = ["LVSH_STATE_DIR": folder.at("state"), "LVSH_LOG_SOCKET": log.path]
        func lvsh(_ args: String...) throws -> CLILab.Result { try ns.run([CLILab.lvsh] + args, environment: env) }

        #expect(try lvsh("group", "web", "vip", "192.0.2.10", "tcp", "80").status == 0)
        let before = try ns.run(["nft", "-j", "list", "table", "inet", "lvsh"]).out
        try "group api vip 192.0.2.20 udp 53\n".write(toFile: folder.at("more.lvsh"), atomically: true, encoding: .utf8)
        let batch = try lvsh("-f", folder.at("more.lvsh"))
        #expect(batch.status == 0, "\(batch)")
        #expect(try ns.run(["nft", "list", "table", "inet", "lvsh"]).out.contains("192.0.2.20"))

        let listing = try lvsh("show", "archive", "--json")
        let json = try JSONSerialization.jsonObject(with: Data(listing.out.utf8)) as? [String: Any]
        let entries = try #require(json?["archive"] as? [[String: Any]], "\(listing)")
        #expect(entries.count == 2)
        #expect(entries.first?["front"] as? String == "batch" && entries.first?["source"] as? String == folder.at("more.lvsh"))
        #expect(entries.last?["front"] as? String == "command-line")

        let rollback = try lvsh("rollback", "1")
        #expect(rollback.status == 0, "\(rollback)")
        #expect(try ns.run(["nft", "-j", "list", "table", "inet", "lvsh"]).out == before, "rollback 1 did not restore the table nft lists")
        let lines = log.lines()
        #expect(lines.count == 3, "\(lines)")
        #expect(lines.map { $0.contains("front=command-line") } == [true, false, false])
        #expect(lines.last?.contains("front=rollback") == true && lines.last?.contains("source=\"archive 1\"") == true)
        let mode = try FileManager.default.attributesOfItem(atPath: folder.at("state/archive"))[.posixPermissions] as? Int
        #expect(mode == 0o700)
    }

    @Test("lvsh daemon archives a front's batch under the front's name and its reload; save with no FILE writes its FILE")
    func daemonRecords() throws {
        let ns = try UnsharedNetns()
        let folder = try TestFolder()
        let log = try DatagramListener(folder.at("log.sock"))
        let env = ["LVSH_STATE_DIR": folder.at("state"), "LVSH_LOG_SOCKET": log.path]
        let file = folder.at("site.lvsh")
        try "group web vip 192.0.2.10 tcp 80\n".write(toFile: file, atomically: true, encoding: .utf8)
        let daemon = Process()
        daemon.executableURL = URL(fileURLWithPath: ns.argv([])[0])
        daemon.arguments = Array(ns.argv([CLILab.lvsh, "--backend", "nft", "daemon", file]).dropFirst())
        FileManager.default.createFile(atPath: folder.at("daemon.log"), contents: nil)
        daemon.standardError = FileHandle(forWritingAtPath: folder.at("daemon.log"))
        daemon.environment = CLILab.environment(env)
        try daemon.run()
        defer {
            kill(daemon.processIdentifier, SIGKILL)
            daemon.waitUntilExit()
        }
        func waitFor(_ what: String, _ condition: () throws -> Bool) throws {
            for _ in 0..<150 {
                if try condition() { return }
                usleep(100_000)
            }
            Issue.record("\(what) did not happen; the daemon's log:\n\(folder.read("daemon.log") ?? "")")
            throw CLILab.Failure(description: what)
        }
        try waitFor("the daemon's start") { folder.read("daemon.log")?.contains("lvsh daemon ready") == true }
        // The start added the group: the daemon's first entry.
        let front = try ns.run([CLILab.lvsh, "group", "api", "vip", "192.0.2.20", "tcp", "8080"], environment: env)
        #expect(front.status == 0, "\(front)")
        let listing = try ns.run([CLILab.lvsh, "show", "archive"], environment: env)
        #expect(listing.out.contains("daemon/command-line") && listing.out.contains("daemon-start"), "\(listing)")

        let save = try ns.run([CLILab.lvsh, "save"], environment: env)
        #expect(save.status == 0 && save.out == "saved to \(file)\n", "\(save)")
        #expect(folder.read("site.lvsh")?.contains("group api vip 192.0.2.20 tcp 8080") == true)

        try "group web vip 192.0.2.10 tcp 80\n".write(toFile: file, atomically: true, encoding: .utf8)
        kill(daemon.processIdentifier, SIGHUP)
        try waitFor("the reload's entry") {
            try ns.run([CLILab.lvsh, "show", "archive"], environment: env).out.contains("daemon-reload")
        }
        #expect(try !ns.run(["nft", "list", "table", "inet", "lvsh"]).out.contains("192.0.2.20"))
        let lines = log.lines()
        #expect(lines.contains { $0.contains("front=daemon/command-line") && $0.contains("source=\"group api vip 192.0.2.20 tcp 8080\"") }, "\(lines)")
        #expect(lines.contains { $0.contains("front=daemon-reload") }, "\(lines)")
        // The daemon's diff of archive 1 (before the reload) against the kernel: the group api.
        let diff = try ns.run([CLILab.lvsh, "show", "diff", "archive", "1"], environment: env)
        #expect(diff.out.contains("+group api vip 192.0.2.20 tcp 8080"), "\(diff)")
    }
}
