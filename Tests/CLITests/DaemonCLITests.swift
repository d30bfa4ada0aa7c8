import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `lvsh daemon` on this kernel's nftables, in a fresh namespace (IPVS is the UML lab's): a group's
/// element deleted behind its back with `nft delete element` is logged as drift and restored; a front
/// writes through the daemon; SIGTERM leaves the table as it is.
@Suite(.enabled(if: UnsharedNetns.available, "needs root, nft, unshare, nsenter and the lvsh binary (swift build)"))
struct DaemonCLITests {
    /// lvsh's v4 port map as `nft list map` (not lvsh) prints it.
    static func elements(_ ns: UnsharedNetns) throws -> String {
        let r = try ns.run(["nft", "list", "map", "inet", "lvsh", "v4_ports"])
        return r.out
    }

    @Test("nft delete element behind the daemon's back is logged and restored; a front's write goes through it")
    func nftDrift() throws {
        try drift(reconcile: nil)
    }

    @Test("with set reconcile log the drift is logged and left as it is")
    func logOnly() throws {
        try drift(reconcile: "log")
    }

    func drift(reconcile: String?) throws {
        let ns = try UnsharedNetns()
        let folder = try TestFolder()
        try ("group web vip 192.0.2.10 tcp 80,443\n" + (reconcile.map { "set reconcile \($0)\n" } ?? ""))
            .write(toFile: folder.at("site.lvsh"), atomically: true, encoding: .utf8)
        let daemon = Process()
        daemon.executableURL = URL(fileURLWithPath: ns.argv([])[0])
        daemon.arguments = Array(ns.argv([CLILab.lvsh, "--backend", "nft", "daemon", folder.at("site.lvsh")]).dropFirst())
        let log = FileHandle(forWritingAtPath: folder.at("daemon.log")) ?? {
            FileManager.default.createFile(atPath: folder.at("daemon.log"), contents: nil)
            return FileHandle(forWritingAtPath: folder.at("daemon.log"))!
        }()
        daemon.standardError = log
        try daemon.run()
        defer {
            kill(daemon.processIdentifier, SIGKILL)
            daemon.waitUntilExit()
        }
        func waitFor(_ what: String, seconds: Double = 15, _ condition: () throws -> Bool) throws {
            let deadline = Date().addingTimeInterval(seconds)
            while Date() < deadline {
                if try condition() { return }
                usleep(100_000)
            }
            Issue.record("\(what) did not happen within \(seconds) s; the daemon's log:\n\(folder.read("daemon.log") ?? "")")
            throw CLILab.Failure(description: what)
        }
        try waitFor("the daemon's start") { folder.read("daemon.log")?.contains("lvsh daemon ready") == true }
        #expect(try Self.elements(ns).contains("192.0.2.10 . tcp . 443"))

        let deleted = try ns.run(["nft", "delete", "element", "inet", "lvsh", "v4_ports", "{ 192.0.2.10 . 6 . 443 }"])
        #expect(deleted.status == 0, "\(deleted.err)")
        if reconcile == "log" {
            try waitFor("the drift's log line") { folder.read("daemon.log")?.contains("drift: found (set reconcile log: left as it is): add 1 entry to group web") == true }
            #expect(try !Self.elements(ns).contains("192.0.2.10 . tcp . 443"), "set reconcile log repaired the drift")
            return
        }
        try waitFor("the drift's repair") { try Self.elements(ns).contains("192.0.2.10 . tcp . 443") }
        #expect(folder.read("daemon.log")?.contains("drift: restoring: add 1 entry to group web") == true)

        let front = try ns.lvsh("group", "web", "add", "vip", "192.0.2.11", "tcp", "80")
        #expect(front.status == 0, "\(front.err)")
        #expect(try Self.elements(ns).contains("192.0.2.11 . tcp . 80"))
        #expect(folder.read("daemon.log")?.contains("batch from command line: applied the desired state") == true)

        let before = try ns.run(["nft", "-j", "list", "ruleset"]).out
        kill(daemon.processIdentifier, SIGTERM)
        daemon.waitUntilExit()
        #expect(daemon.terminationStatus == 0)
        #expect(try ns.run(["nft", "-j", "list", "ruleset"]).out == before, "SIGTERM changed the ruleset")
    }
}
