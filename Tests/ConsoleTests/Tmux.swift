import Foundation
import TestSupport
import Testing

/// A tmux server of the test's own (`tmux -L NAME`, no configuration file) with one pane, driven by
/// send-keys and read by capture-pane: a real terminal for the console, with no one at it.
final class Tmux {
    let socket: String

    init(socket: String, width: Int = 120, height: Int = 50, command: String) throws {
        self.socket = socket
        try Tmux.spawn(["tmux", "-L", socket, "-f", "/dev/null", "new-session", "-d", "-x", String(width), "-y", String(height),
                        command])
    }

    /// Ends the server, and removes its socket, which a server ended by a signal leaves behind.
    func kill() {
        _ = try? tmux(["kill-server"])
        let dir = ProcessInfo.processInfo.environment["TMUX_TMPDIR"] ?? "/tmp"
        try? FileManager.default.removeItem(atPath: "\(dir)/tmux-\(getuid())/\(socket)")
    }

    /// Keys in tmux's notation: literal text, or names such as Tab, Enter, Up, C-c, C-d.
    func send(_ keys: String...) throws { try tmux(["send-keys", "-t", "0"] + keys) }

    /// Text typed as is (no key names looked up).
    func type(_ text: String) throws { try tmux(["send-keys", "-t", "0", "-l", text]) }

    /// The pane as shown, trailing blank lines dropped.
    func screen() -> String {
        let text = (try? tmux(["capture-pane", "-p", "-t", "0"])) ?? ""
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        while let last = lines.last, last.trimmingCharacters(in: .whitespaces).isEmpty { lines.removeLast() }
        return lines.joined(separator: "\n")
    }

    /// The pane's scrollback and screen, trailing blank lines dropped: output taller than the pane.
    func transcript() -> String {
        let text = (try? tmux(["capture-pane", "-p", "-S", "-", "-t", "0"])) ?? ""
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        while let last = lines.last, last.trimmingCharacters(in: .whitespaces).isEmpty { lines.removeLast() }
        return lines.joined(separator: "\n")
    }

    /// Forgets the scrollback (tmux's clear-history).
    func clearHistory() throws { try tmux(["clear-history", "-t", "0"]) }

    /// The last line on screen: where the prompt and the line being edited are.
    func lastLine() -> String { screen().split(separator: "\n").last.map(String.init) ?? "" }

    /// Polls the screen until `condition` holds, up to `seconds`; records an issue with the screen if it never does.
    @discardableResult
    func waitFor(_ what: String, seconds: Double = 8, sourceLocation: SourceLocation = #_sourceLocation,
                 _ condition: (String) -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if condition(screen()) { return true }
            usleep(50_000)
        }
        Issue.record("timed out waiting for \(what); the screen:\n\(screen())", sourceLocation: sourceLocation)
        return false
    }

    @discardableResult
    private func tmux(_ args: [String]) throws -> String {
        try Tmux.run(["tmux", "-L", socket] + args)
    }

    struct Failure: Error, CustomStringConvertible { var description: String }

    /// Runs a program to its end; its standard output, or a failure with its standard error.
    @discardableResult
    static func run(_ argv: [String]) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = argv
        p.environment = environment
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        p.standardInput = FileHandle.nullDevice
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else {
            throw Failure(description: "\(argv.joined(separator: " ")) exited \(p.terminationStatus): \(String(decoding: errData, as: UTF8.self))")
        }
        return String(decoding: data, as: UTF8.self)
    }

    /// Runs a program with only /dev/null for descriptors and waits for it. Not Foundation's Process:
    /// it learns that a child ended when a socket the child inherited closes, and the tmux server that
    /// `new-session` forks inherits that socket and keeps it open for as long as it runs.
    /// The tmux server's environment, which the consoles it runs inherit: lvsh's archive and log
    /// socket in this test process's temporary folder (no socket there: nothing is logged).
    static let environment = SpawnEnvironment.make(kind: "console")

    static func spawn(_ argv: [String]) throws {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        for fd: Int32 in 0...2 {
            posix_spawn_file_actions_addopen(&actions, fd, "/dev/null", fd == 0 ? O_RDONLY : O_WRONLY, 0)
        }
        // Every other descriptor closed in the child (glibc ignores ones closed meanwhile).
        let open = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
        for fd in open.compactMap({ Int32($0) }) where fd > 2 { posix_spawn_file_actions_addclose(&actions, fd) }
        let args = argv.map { strdup($0) } + [nil]
        let env = Self.environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { (args + env).forEach { free($0) } }
        // Signals unblocked and at their defaults: the calling thread (a test runner's worker) blocks
        // most, the child would inherit that, and a tmux server that cannot receive SIGTERM ignores
        // kill-server, which is its own SIGTERM.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var none = sigset_t(), all = sigset_t()
        sigemptyset(&none)
        sigfillset(&all)
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        var pid = pid_t()
        let rc = posix_spawnp(&pid, argv[0], &actions, &attributes, args, env)
        guard rc == 0 else { throw Failure(description: "cannot start \(argv[0]): \(String(cString: strerror(rc)))") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        // Exited (low 7 bits 0) with code 0.
        guard status & 0x7f == 0 && (status >> 8) & 0xff == 0 else {
            throw Failure(description: "\(argv.joined(separator: " ")) failed (wait status \(status))")
        }
    }

    static func isInstalled(_ program: String) -> Bool {
        (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
            .contains { FileManager.default.isExecutableFile(atPath: "\($0)/\(program)") }
    }
}
