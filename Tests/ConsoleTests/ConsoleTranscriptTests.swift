import Console
import Foundation
import Testing

/// The console as an operator used to vtysh meets it (issue 13), on a real terminal (tmux) in a fresh
/// named network namespace, never the host's own: type a line, compare the screen (FRR's tests/lib/cli).
@Suite(.serialized) struct ConsoleTranscriptTests {
    /// One console in tmux: its namespace, a temporary $HOME, and the prompt it should show.
    final class Console {
        let tag = "\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let ns: String
        let home: String
        let tmux: Tmux
        let prompt: String

        /// `setup`: lvsh commands run in the namespace before the console starts. `environment`: more
        /// variables for the console (PAGER, ...); LVSH_HISTORY and PAGER are unset unless given.
        init(setup: [[String]] = [], environment: [String: String] = [:]) throws {
            ns = "lvsh-transcript-\(tag)"
            home = FileManager.default.temporaryDirectory.appendingPathComponent("lvsh-home-\(tag)").path
            try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true)
            try Tmux.run(["ip", "netns", "add", ns])
            for words in setup { try Tmux.run(["ip", "netns", "exec", ns, ConsoleTerminalTests.lvsh] + words) }
            let variables = (["HOME": home].merging(environment) { $1 }).sorted { $0.key < $1.key }
                .map { "\($0.key)='\($0.value)'" }.joined(separator: " ")
            let command = "env -u LVSH_HISTORY -u PAGER \(variables) ip netns exec \(ns) sh -c '\(ConsoleTerminalTests.lvsh); echo \"lvsh exited $?\"; sleep 60'"
            tmux = try Tmux(socket: "lvshtranscript-\(tag)", command: command)
            prompt = Prompt.text(host: Prompt.hostName(), backend: "nft", namespace: .named(ns))
            tmux.waitFor("the prompt") { _ in self.tmux.lastLine() == self.prompt.trimmingCharacters(in: .whitespaces) }
        }

        /// The prompt as the screen shows it (capture-pane drops trailing spaces).
        var shownPrompt: String { prompt.trimmingCharacters(in: .whitespaces) }

        /// Types a line and Enter; waits for the next prompt; what the line printed (the pane's
        /// scrollback included: output may be taller than the pane).
        @discardableResult
        func run(_ line: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
            let head = prompt + line + "\n"
            let before = ConsoleTranscriptTests.count(head, in: tmux.transcript())
            try tmux.type(line)
            try tmux.send("Enter")
            tmux.waitFor("`\(line)` to finish", sourceLocation: sourceLocation) { _ in
                let all = self.tmux.transcript()
                return ConsoleTranscriptTests.count(head, in: all) > before && all.hasSuffix("\n" + self.shownPrompt)
            }
            let all = tmux.transcript()
            guard let start = all.range(of: head, options: .backwards), all.hasSuffix(shownPrompt) else { return all }
            return String(all[start.upperBound...].dropLast(shownPrompt.count))
        }

        /// Types text and `?`; the help printed under the line (the line is drawn again after it).
        func question(_ text: String) throws -> String {
            // capture-pane drops trailing spaces.
            let line = (prompt + text).replacingOccurrences(of: " +$", with: "", options: .regularExpression)
            let before = ConsoleTranscriptTests.count(line + "\n", in: tmux.transcript())
            try tmux.type(text)
            try tmux.send("?")
            tmux.waitFor("help for `\(text)`") { _ in
                let all = self.tmux.transcript()
                return ConsoleTranscriptTests.count(line + "\n", in: all) > before && all.hasSuffix("\n" + line)
            }
            let all = String(tmux.transcript().dropLast(line.count))
            try tmux.send("C-u")
            guard let start = all.range(of: line + "\n", options: .backwards) else { return all }
            return String(all[start.upperBound...])
        }

        func end() {
            _ = try? tmux.send("C-d")
            tmux.kill()
            _ = try? Tmux.run(["ip", "netns", "del", ns])
            try? FileManager.default.removeItem(atPath: home)
        }
    }

    static func count(_ text: String, in screen: String) -> Int { screen.components(separatedBy: text).count - 1 }

    @Test(.enabled(if: ConsoleTerminalTests.available, "needs root, tmux, ip and the lvsh binary"))
    func prefixRulesQuestionMarkHelpAndDidYouMean() throws {
        let c = try Console()
        defer { c.end() }
        // `?` at the prompt lists each first word once.
        let first = try c.question("")
        for word in ["group", "realserver", "no", "show", "set"] {
            #expect(Self.count("\n  \(word) ", in: "\n" + first) == 1, "\(word) once in:\n\(first)")
        }
        // `s` starts six commands: it names none of them, not even `save FILE`.
        #expect(try c.run("s /tmp/lvsh-never-\(c.tag).lvsh") .contains("ambiguous: 's' could be save, service, set, show, sync or sysctl"))
        #expect(!FileManager.default.fileExists(atPath: "/tmp/lvsh-never-\(c.tag).lvsh"))
        #expect(try c.run("s gr").contains("ambiguous: 's' could be save, service, set, show, sync or sysctl"))
        // `real` is real: prepare and script belong to realserver.
        let real = try c.question("real ")
        #expect(real.contains("  fwmark ") && !real.contains("prepare") && !real.contains("script"), "\(real)")
        // help: forms with their arguments, several words, unknown topics.
        let overview = try c.run("help | include group")
        #expect(overview.contains("  group GROUP add vip ADDRESS[,ADDRESS...]|any tcp|udp|sctp PORTS ..."))
        #expect(Self.count("  group GROUP add ", in: overview) == 1)
        let add = try c.run("help group add")
        #expect(add.hasPrefix("group GROUP add vip") && !add.contains("group NAME"), "\(add)")
        #expect(try c.run("help show services").hasPrefix("show services [stats]"))
        #expect(try c.run("help grup").contains("help: no command 'grup': did you mean group?"))
        // A near miss names the command meant, not all of them.
        let typo = try c.run("shwo groups")
        #expect(typo.contains("unknown command 'shwo': did you mean show?") && !typo.contains("realserver"), "\(typo)")
        #expect(try c.run("show servcies").contains("did you mean services?"))
    }

    @Test(.enabled(if: ConsoleTerminalTests.available, "needs root, tmux, ip and the lvsh binary"))
    func pipesAndGroupRedefinition() throws {
        let c = try Console(setup: [["group", "web", "vip", "192.0.2.1", "tcp", "80,443"], ["group", "dns", "vip", "any", "udp", "53"],
                                    ["group", "mail", "vip", "192.0.2.2", "tcp", "25"]])
        defer { c.end() }
        let web = "group web vip 192.0.2.1 tcp 80,443 mark 1000", dns = "group dns vip any udp 53 mark 1001",
            mail = "group mail vip 192.0.2.2 tcp 25 mark 1002"
        // `show groups` lists them by name: dns, mail, web.
        #expect(try c.run("show groups | include tcp") == "\(mail)\n\(web)\n")
        #expect(try c.run("show groups | exclude tcp") == "\(dns)\n")
        #expect(try c.run("show groups | begin mail") == "\(mail)\n\(web)\n")
        #expect(try c.run("show groups | count") == "3\n")
        #expect(try c.run("show groups | include tcp | count") == "2\n")
        #expect(try c.run("show groups | no-more").contains(web))
        // Nothing matches: nothing printed, not even an empty line.
        #expect(try c.run("show groups | include nosuch") == "")
        // `?` and TAB after `|`.
        let filters = try c.question("show groups | ")
        for f in ["include", "exclude", "begin", "count", "no-more"] { #expect(filters.contains("  \(f) "), "\(f) in:\n\(filters)") }
        try c.tmux.type("show groups | ex")
        try c.tmux.send("Tab")
        c.tmux.waitFor("| ex<TAB> to complete exclude") { _ in c.tmux.lastLine() == c.prompt + "show groups | exclude" }
        try c.tmux.send("C-u")
        // Re-defining a group with fewer ports says what goes.
        #expect(try c.run("group web vip 192.0.2.1 tcp 80").contains("group web: removes tcp 443 on 192.0.2.1"))
        #expect(try c.run("show groups | include web") == "group web vip 192.0.2.1 tcp 80 mark 1000\n")
    }

    @Test(.enabled(if: ConsoleTerminalTests.available && Tmux.isInstalled("less"), "needs root, tmux, ip, less and the lvsh binary"))
    func pagerHistoryAndPrompt() throws {
        // 120 addresses: `show rules` is taller than the 50-row terminal.
        let addresses = (1...120).map { "10.1.\($0 / 100).\($0 % 100 + 1)" }.joined(separator: ",")
        let c = try Console(setup: [["group", "big", "vip", addresses, "tcp", "80"]])
        defer { c.end() }
        // The prompt names the host, the backend and the namespace.
        #expect(c.tmux.lastLine() == "lvsh@\(Prompt.hostName()!)(nft netns \(c.ns))>")
        // Taller than the terminal: less -FRX shows the first screen and waits.
        try c.tmux.type("show rules")
        try c.tmux.send("Enter")
        c.tmux.waitFor("less to show the start of the rules and wait") { screen in
            screen.contains("table inet lvsh {") && c.tmux.lastLine().hasPrefix(":")
        }
        try c.tmux.send("q")
        c.tmux.waitFor("the prompt after q") { _ in c.tmux.lastLine() == c.prompt.trimmingCharacters(in: .whitespaces) }
        // `| no-more`: the whole output at once, its end on screen and the prompt under it.
        #expect(try c.run("show rules | no-more").hasSuffix("}\n"))
        // Short output is never paged.
        #expect(try c.run("show rules | count") == "\(try Tmux.run(["ip", "netns", "exec", c.ns, ConsoleTerminalTests.lvsh, "show", "rules"]).split(separator: "\n", omittingEmptySubsequences: false).count - 1)\n")
        // `set pager off` for the session: no pager, then on again.
        #expect(try c.run("set pager off") == "pager off for this console session\n")
        #expect(try c.run("show rules").hasSuffix("}\n"))
        #expect(try c.run("set pager on") == "pager on for this console session\n")
        try c.tmux.type("show rules")
        try c.tmux.send("Enter")
        c.tmux.waitFor("less again after set pager on") { _ in c.tmux.lastLine().hasPrefix(":") }
        try c.tmux.send("q")
        c.tmux.waitFor("the prompt after q") { _ in c.tmux.lastLine() == c.prompt.trimmingCharacters(in: .whitespaces) }
        // History goes to $HOME/.lvsh_history.
        try c.tmux.send("C-d")
        c.tmux.waitFor("lvsh to exit") { $0.contains("lvsh exited 0") }
        let saved = (try? String(contentsOfFile: c.home + "/.lvsh_history", encoding: .utf8)) ?? ""
        #expect(saved.replacingOccurrences(of: "\\040", with: " ").contains("set pager off"), "history: \(saved)")
    }

    @Test(.enabled(if: ConsoleTerminalTests.available, "needs root, tmux, ip and the lvsh binary"))
    func pagerIsPAGERWhenSet() throws {
        let addresses = (1...120).map { "10.1.\($0 / 100).\($0 % 100 + 1)" }.joined(separator: ",")
        let c = try Console(setup: [["group", "big", "vip", addresses, "tcp", "80"]], environment: ["PAGER": "sed s/^/PAGED:/"])
        defer { c.end() }
        let paged = try c.run("show rules")
        #expect(paged.hasPrefix("PAGED:table inet lvsh {") && paged.hasSuffix("PAGED:}\n"), "\(paged.prefix(200))")
        // Short output, `| no-more`: not through the pager.
        #expect(try c.run("show groups | count") == "1\n")
        #expect(try c.run("show rules | no-more").hasPrefix("table inet lvsh {"))
    }
}
