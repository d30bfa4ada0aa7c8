import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A network namespace made by `unshare -n`, held by a `sleep` in it; programs enter it with
/// `nsenter --net`, which execs them in place, so a spawned program's pid is the program's own.
final class UnsharedNetns: @unchecked Sendable {
    private let holder: Process
    let path: String

    static let available = CLILab.available && CLILab.tool("unshare") != nil && CLILab.tool("nsenter") != nil

    init() throws {
        holder = Process()
        holder.executableURL = URL(fileURLWithPath: CLILab.tool("unshare")!)
        holder.arguments = ["-n", "sleep", "3600"]
        try holder.run()
        path = "/proc/\(holder.processIdentifier)/ns/net"
        let mine = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/ns/net")
        for _ in 0..<500 {
            if let theirs = try? FileManager.default.destinationOfSymbolicLink(atPath: path), theirs != mine { return }
            usleep(10_000)
        }
        throw CLILab.Failure(description: "unshare -n did not make a namespace")
    }

    /// SIGKILL: children of Foundation's Process inherit a signal mask that blocks SIGTERM.
    deinit {
        kill(holder.processIdentifier, SIGKILL)
        holder.waitUntilExit()
    }

    /// The command line that runs `argv` inside the namespace.
    func argv(_ argv: [String]) -> [String] { [CLILab.tool("nsenter")!, "--net=\(path)", "--"] + argv }

    func run(_ args: [String], input: String = "", environment: [String: String] = [:]) throws -> CLILab.Result {
        try CLILab.run(argv(args), input: input, environment: environment)
    }

    func lvsh(_ args: String...) throws -> CLILab.Result { try run([CLILab.lvsh] + args) }
}

/// A folder of the test's own on the machine's file system, removed when the test ends.
final class TestFolder {
    let path = NSTemporaryDirectory() + "lvsh-save-\(getpid())-\(UUID().uuidString.prefix(8).lowercased())"

    init() throws { try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false) }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    func at(_ name: String) -> String { path + "/" + name }

    func read(_ name: String) -> String? { try? String(contentsOfFile: at(name), encoding: .utf8) }

    func entries() -> [String] { ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted() }
}

/// `lvsh save` and `show running-config` end to end: atomic under SIGKILL, refusing what it must not
/// write (exit 2), and writing nothing when the state cannot be read whole (exit 1).
@Suite(.enabled(if: UnsharedNetns.available, "needs root, nft, unshare, nsenter and the lvsh binary (swift build)"))
struct SaveCLITests {
    /// Table inet lvsh with `count` groups (g0 … mark 1000 …, tcp 80 and 443 on one IPv4 address
    /// each), in the layout lvsh writes, for `nft -f`. Why not `lvsh -f`: creating 5,000 groups one
    /// command at a time takes minutes in a debug build on this machine; nft loads them in a second,
    /// and the reference save below checks that lvsh reads them as its own.
    static func groupsTable(_ count: Int) -> String {
        let names = (0..<count).map { "\(1000 + $0) comment \"g\($0)\"" }.joined(separator: ", ")
        let v4 = (0..<count).flatMap { i in [80, 443].map { "10.\(i / 250).\(i % 250).1 . tcp . \($0) : \(1000 + i)" } }
            .joined(separator: ", ")
        // Only the maps these groups use: lvsh reads the maps it finds and creates the others with
        // its next change (the interval maps' integer keys have no nft declaration).
        let rules = """
                    meta mark set ip daddr . meta l4proto . th dport map @v4_ports
            """
        return """
            table inet lvsh {
                set groups { type mark; elements = { \(names) }; }
                map v4_ports { type ipv4_addr . inet_proto . inet_service : mark; elements = { \(v4) }; }
                chain prerouting { type filter hook prerouting priority mangle; policy accept;
            \(rules)
                }
                chain output { type route hook output priority mangle; policy accept;
            \(rules)
                }
            }

            """
    }

    /// Starts `argv` with no input and output; its pid stays this process's to kill until `reap`.
    static func spawn(_ argv: [String]) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        // Signals unblocked and at their defaults, whatever this thread blocks.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var none = sigset_t(), all = sigset_t()
        sigemptyset(&none)
        sigfillset(&all)
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        var args: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
        defer { for a in args { free(a) } }
        var env: [UnsafeMutablePointer<CChar>?] = CLILab.environment().map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { for e in env { free(e) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, argv[0], &actions, &attributes, &args, &env)
        guard rc == 0 else { throw CLILab.Failure(description: "posix_spawn \(argv[0]): \(String(cString: strerror(rc)))") }
        return pid
    }

    /// Waits for `pid`: its exit status, or nil when a signal ended it.
    static func reap(_ pid: pid_t) -> Int32? {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        return status & 0x7f == 0 ? (status >> 8) & 0xff : nil
    }

    static func microseconds(since start: timespec) -> Double {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return Double(now.tv_sec - start.tv_sec) * 1e6 + Double(now.tv_nsec - start.tv_nsec) / 1e3
    }

    @Test("kill -9 at random moments during 200 saves of a 5,000-group configuration: never a partial file, never a temporary file left")
    func killedSavesLeaveNoPartialFile() throws {
        let ns = try UnsharedNetns()
        let folder = try TestFolder()
        try Self.groupsTable(5000).write(toFile: folder.at("groups.nft"), atomically: false, encoding: .utf8)
        let load = try ns.run(["nft", "-f", folder.at("groups.nft")])
        try #require(load.status == 0, "\(load)")
        unlink(folder.at("groups.nft"))

        // The reference: a save nobody kills; it must be every group, as lvsh commands.
        let save = ns.argv([CLILab.lvsh, "save", folder.at("site.lvsh")])
        var duration = 0.0
        for _ in 0..<3 {
            var start = timespec()
            clock_gettime(CLOCK_MONOTONIC, &start)
            try #require(Self.reap(try Self.spawn(save)) == 0)
            duration = max(duration, Self.microseconds(since: start))
        }
        let reference = try #require(folder.read("site.lvsh"))
        let groups = (0..<5000).map { "group g\($0) vip 10.\($0 / 250).\($0 % 250).1 tcp 80,443 mark \(1000 + $0)" }
        #expect(Set(reference.split(separator: "\n").filter { $0.hasPrefix("group ") }.map(String.init)) == Set(groups))

        let previous = "# the file as it was before this save\n"
        let temporaryPrefix = ".site.lvsh.lvsh-tmp-"
        var killed = 0, finished = 0, leftovers = 0
        for i in 0..<200 {
            // Every third save starts without a file; the others replace one.
            if i % 3 == 0 { unlink(folder.at("site.lvsh")) } else {
                try previous.write(toFile: folder.at("site.lvsh"), atomically: false, encoding: .utf8)
            }
            let before = folder.read("site.lvsh")
            let delay = Double.random(in: 0...(duration * 1.3))
            let pid = try Self.spawn(save)
            usleep(UInt32(delay))
            kill(pid, SIGKILL)
            let status = Self.reap(pid)
            if let status { #expect(status == 0, "save \(i) exited \(status)"); finished += 1 } else { killed += 1 }

            let after = folder.read("site.lvsh")
            #expect(after == before || after == reference,
                    "save \(i), killed after \(Int(delay)) µs: site.lvsh has \(after?.utf8.count ?? -1) bytes, neither the old file nor a complete save")
            let temporaries = folder.entries().filter { $0.hasPrefix(temporaryPrefix) }
            // Only a kill between naming the finished file and renaming it (two system calls) can
            // leave one; it is complete, and the next save removes it.
            if !temporaries.isEmpty { leftovers += 1 }
            for t in temporaries { #expect(folder.read(t) == reference, "save \(i) left a partial temporary file \(t)") }
            #expect(status == nil || temporaries.isEmpty, "save \(i) finished and left \(temporaries)")
            #expect(folder.entries().allSatisfy { $0 == "site.lvsh" || $0.hasPrefix(temporaryPrefix) }, "\(folder.entries())")
        }
        // The kills fell both during the saves and after some: the delays spanned a whole save.
        #expect(killed > 0 && finished > 0, "killed \(killed), finished \(finished)")
        print("SaveCLITests: 200 saves of \(reference.utf8.count) bytes, a save takes about \(Int(duration / 1000)) ms; "
              + "\(killed) killed, \(finished) finished, \(leftovers) left a complete temporary file for the next save")

        // A last save removes whatever a kill left, and writes the reference.
        try #require(Self.reap(try Self.spawn(save)) == 0)
        #expect(folder.read("site.lvsh") == reference)
        #expect(folder.entries() == ["site.lvsh"])
    }

    @Test("save refuses FIFOs, folders, symbolic links and missing folders with exit 2, writing nothing")
    func refusesWhatIsNotARegularFile() throws {
        let ns = try UnsharedNetns()
        #expect(try ns.lvsh("group", "web", "vip", "10.0.0.1", "tcp", "80").status == 0)
        let folder = try TestFolder()
        mkfifo(folder.at("pipe"), 0o600)
        mkdir(folder.at("sub"), 0o755)
        _ = FileManager.default.createFile(atPath: folder.at("real.lvsh"), contents: Data("real\n".utf8))
        symlink("real.lvsh", folder.at("link.lvsh"))
        let cases = [("pipe", "it is a FIFO (named pipe)"), ("sub", "it is a folder"),
                     ("link.lvsh", "it is a symbolic link (to real.lvsh)"),
                     ("missing/site.lvsh", "the folder \(folder.at("missing")) does not exist; create it first")]
        for (name, message) in cases {
            let r = try ns.lvsh("save", folder.at(name))
            #expect(r.status == 2, "\(name): \(r)")
            #expect(r.err.contains(message), "\(name): \(r)")
        }
        #expect(folder.read("real.lvsh") == "real\n")
        #expect(folder.entries() == ["link.lvsh", "pipe", "real.lvsh", "sub"])
        // And a plain save keeps the mode of the file it replaces.
        chmod(folder.at("real.lvsh"), 0o600)
        #expect(try ns.lvsh("save", folder.at("real.lvsh")).status == 0)
        #expect(folder.read("real.lvsh")?.contains("group web vip 10.0.0.1 tcp 80 mark") == true)
        #expect(((try FileManager.default.attributesOfItem(atPath: folder.at("real.lvsh")))[.posixPermissions] as? Int) == 0o600)
    }

    @Test("save and show running-config write nothing and exit 1 when lvsh's table is not as lvsh made it")
    func refusesAnUnreadableState() throws {
        let ns = try UnsharedNetns()
        let folder = try TestFolder()
        _ = FileManager.default.createFile(atPath: folder.at("site.lvsh"), contents: Data("before\n".utf8))
        try #require(ns.run(["nft", "add table inet lvsh; add set inet lvsh groups { type ipv4_addr; }"]).status == 0)
        let save = try ns.lvsh("save", folder.at("site.lvsh"))
        #expect(save.status == 1, "\(save)")
        #expect(save.err.contains("nothing saved, \(folder.at("site.lvsh")) is unchanged: table inet lvsh has a set groups that lvsh did not make"), "\(save)")
        #expect(folder.read("site.lvsh") == "before\n")
        #expect(folder.entries() == ["site.lvsh"])
        let show = try ns.lvsh("show", "running-config")
        #expect(show.status == 1 && show.out.isEmpty, "\(show)")
    }

    @Test("save and show running-config write nothing and exit 1 for a user who cannot read the state")
    func refusesWithoutRoot() throws {
        guard let setpriv = CLILab.tool("setpriv") else { return }
        let ns = try UnsharedNetns()
        #expect(try ns.lvsh("group", "web", "vip", "10.0.0.1", "tcp", "80").status == 0)
        let folder = try TestFolder()
        chmod(folder.path, 0o777)
        let nobody = [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups", CLILab.lvsh]
        let save = try ns.run(nobody + ["save", folder.at("site.lvsh")])
        #expect(save.status == 1 && save.err.contains("needs root"), "\(save)")
        #expect(folder.entries() == [])
        let show = try ns.run(nobody + ["show", "running-config"])
        #expect(show.status == 1 && show.out.isEmpty, "\(show)")
    }
}
