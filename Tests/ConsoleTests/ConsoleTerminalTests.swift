import Console
import Foundation
import Testing

/// The console on a real terminal (tmux), in a fresh named network namespace on this machine's kernel,
/// never the host's own: nftables works there, so port groups are the live values completed.
@Suite(.serialized) struct ConsoleTerminalTests {
    static let available = getuid() == 0 && Tmux.isInstalled("tmux") && Tmux.isInstalled("ip")
        && FileManager.default.isExecutableFile(atPath: lvsh)

    /// The lvsh built beside this test binary ($LVSH_BIN overrides).
    static var lvsh: String {
        if let bin = ProcessInfo.processInfo.environment["LVSH_BIN"] { return bin }
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        var dir = URL(fileURLWithPath: exe).deletingLastPathComponent()
        // On Linux the test binary is .../debug/NAMEPackageTests.xctest; elsewhere it may be a bundle.
        while dir.pathComponents.count > 1 && !FileManager.default.fileExists(atPath: dir.appendingPathComponent("lvsh").path) {
            dir.deleteLastPathComponent()
        }
        return dir.appendingPathComponent("lvsh").path
    }

    @Test(.enabled(if: available, "needs root, tmux, ip and the lvsh binary"))
    func completionHelpHistoryAndKeys() throws {
        let tag = "\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let ns = "lvsh-console-\(tag)"
        let history = FileManager.default.temporaryDirectory.appendingPathComponent("lvsh-history-\(tag)").path
        try Tmux.run(["ip", "netns", "add", ns])
        defer {
            _ = try? Tmux.run(["ip", "netns", "del", ns])
            try? FileManager.default.removeItem(atPath: history)
        }
        try Tmux.run(["ip", "netns", "exec", ns, Self.lvsh, "group", "webfarm", "vip", "10.0.0.1", "tcp", "80"])

        // The shell around lvsh reports its exit and keeps the pane open to be read.
        let command = "env LVSH_HISTORY=\(history) ip netns exec \(ns) sh -c '\(Self.lvsh); echo \"lvsh exited $?\"; sleep 60'"
        let tmux = try Tmux(socket: "lvshtest-\(tag)", command: command)
        defer { tmux.kill() }
        let prompt = Prompt.text(host: Prompt.hostName(), backend: "nft", namespace: .named(ns))
        func count(_ text: String, in screen: String) -> Int { screen.components(separatedBy: text).count - 1 }
        let groupLine = "group webfarm vip 10.0.0.1 tcp 80 mark 1000"
        // libedit puts the terminal in raw mode before it prints its prompt: keys typed before the
        // prompt is back are echoed by the terminal as well (a clean run in 2026-12 failed on the
        // screen `no group webfarm oup web`), so each line waits for an empty prompt first.
        let emptyPrompt = prompt.trimmingCharacters(in: .whitespaces)
        func awaitPrompt(_ after: String) { tmux.waitFor("the prompt after \(after)") { _ in tmux.lastLine() == emptyPrompt } }

        // The prompt names the backend and the namespace.
        tmux.waitFor("the prompt") { $0.hasSuffix(prompt.trimmingCharacters(in: .whitespaces)) }

        // TAB completes a keyword, then Enter runs it.
        try tmux.type("show gr")
        try tmux.send("Tab")
        tmux.waitFor("show gr<TAB> to complete to show groups") { _ in tmux.lastLine() == prompt + "show groups" }
        try tmux.send("Enter")
        tmux.waitFor("show groups to list webfarm") { count(groupLine, in: $0) == 1 }
        awaitPrompt("show groups")

        // TAB completes a live value: the group the kernel holds.
        try tmux.type("no group web")
        try tmux.send("Tab")
        tmux.waitFor("no group web<TAB> to complete the group name") { _ in tmux.lastLine() == prompt + "no group webfarm" }

        // Ctrl-C drops the half-typed line, and the console stays.
        try tmux.send("C-c")
        tmux.waitFor("Ctrl-C to end the line and prompt again") {
            $0.contains(prompt + "no group webfarm ^C\n") && tmux.lastLine() == prompt.trimmingCharacters(in: .whitespaces)
        }

        // An abbreviation runs its command; the group is still there, so `no group` never ran.
        try tmux.type("sh gr")
        try tmux.send("Enter")
        tmux.waitFor("sh gr to run show groups") { count(groupLine, in: $0) == 2 }
        awaitPrompt("sh gr")

        // `?` lists the next words with their help and leaves the line as it was.
        try tmux.type("show ?")
        tmux.waitFor("show ? to list services, groups and rules") { screen in
            ["services", "groups", "rules"].allSatisfy { screen.contains("\n  \($0) ") } && tmux.lastLine() == prompt + "show"
        }
        let help = tmux.screen()
        #expect(help.contains("the port groups and their marks"))
        #expect(!help.contains("show?"), "? inserts no character")
        try tmux.send("C-u")
        awaitPrompt("Ctrl-U")

        // Up brings back the previous command.
        try tmux.send("Up")
        tmux.waitFor("Up to recall sh gr") { _ in tmux.lastLine() == prompt + "sh gr" }
        try tmux.send("Enter")
        tmux.waitFor("the recalled command to run") { count(groupLine, in: $0) == 3 }
        awaitPrompt("the recalled command")

        // Ctrl-D on the empty line leaves.
        try tmux.send("C-d")
        tmux.waitFor("Ctrl-D to exit lvsh") { $0.contains("lvsh exited 0") }
        print("console transcript:\n" + tmux.screen())

        // The history reached its file (libedit writes it vis(3)-encoded: a space is \040); the
        // cancelled line is not in it.
        let saved = (try? String(contentsOfFile: history, encoding: .utf8)) ?? ""
        let entries = saved.replacingOccurrences(of: "\\040", with: " ").split(separator: "\n").map(String.init)
        #expect(entries.contains("show groups"))
        #expect(entries.contains("sh gr"))
        #expect(!entries.contains { $0.contains("no group") })
        #expect(try Tmux.run(["ip", "netns", "exec", ns, Self.lvsh, "show", "groups"]).contains(groupLine))
    }
}
