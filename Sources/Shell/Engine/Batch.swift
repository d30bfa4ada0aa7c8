import Firewall
import IPVS
import LVSModel

/// Runs a list of commands as one batch: parse all, check every change against the candidate state,
/// print the plan (--dry-run) or execute it — shows run where they stand, after the changes before them.
/// A refusal part-way undoes everything the batch changed.
struct Batch {
    let session: Session
    let file: String

    private enum Item {
        case changes(Range<Int>)
        case show(CommandAction, Bindings, filter: Filter?)
        case ipvsadm([String], filter: Filter?)
        case help([String])
        case local(@Sendable (Bindings, Session) throws(LVSError) -> String, Bindings)
    }

    /// `| include REGEX`: keep the output lines that match.
    struct Filter {
        let regex: Regex<AnyRegexOutput>
        func apply(_ text: String) -> String {
            text.split(separator: "\n", omittingEmptySubsequences: false).filter { $0.contains(regex) }
                .joined(separator: "\n") + (text.hasSuffix("\n") ? "\n" : "")
        }
    }

    init(session: Session, file: String) {
        self.session = session
        self.file = file
    }

    mutating func run(_ commands: [CommandInput]) -> Int32 {
        var parsed: [(CommandInput, Command, Bindings, Filter?)] = []
        var memo = ParseMemo()
        for input in commands {
            do throws(LVSError) {
                let (words, filter) = try splitFilter(input)
                switch Catalog.table.parse(words, memo: &memo) {
                case .success(let (command, bindings)): parsed.append((input, command, bindings, filter))
                case .failure(let f): throw .badInput(located(f.message, input, wordIndex: f.wordIndex))
                }
            } catch {
                return fail(error)
            }
        }
        guard !parsed.isEmpty else { return 0 }
        // Writers hold the namespace's lock from reading the kernel to their last write, so two lvsh
        // processes never interleave their changes.
        var lock: NamespaceLock? = nil
        if !session.options.dryRun, parsed.contains(where: { if case .change = $0.1.handler { true } else { false } }) {
            do throws(LVSError) {
                lock = try NamespaceLock(try RuntimeDirectory.current())
            } catch {
                return fail(error)
            }
        }
        defer { withExtendedLifetime(lock) {} }

        // A batch that changes nothing but entries (`group NAME add|del ...`, e.g. `lvsh group web add
        // vip 10.0.0.1 tcp 8443`) reads neither IPVS nor the groups: checking an edit here would cost a
        // read of every entry of every group. The backend checks the edits when it applies them, reading
        // only what they can clash with (see Candidate.defersGroupChecks); --dry-run checks here as usual.
        let editsOnly = !session.options.dryRun && parsed.contains { Batch.isEntryEdit($0.1, $0.2) }
            && parsed.allSatisfy { (_, command, bindings, _) in
                switch command.handler {
                case .change: Batch.isEntryEdit(command, bindings)
                case .show, .help, .quit: true
                default: false
                }
            }
        // The command each change came from, to locate an edit that the backend refuses.
        var changeInputs: [CommandInput] = []

        var items: [Item] = []
        var candidate: Candidate? = nil
        for (input, command, bindings, filter) in parsed {
            switch command.handler {
            case .quit:
                continue
            case .help:
                items.append(.help(bindings.all("topic")))
            case .show(let action):
                items.append(.show(.show(action), bindings, filter: filter))
            case .local(let action):
                items.append(.local(action, bindings))
            case .ipvsadm:
                let args = bindings.all("args")
                let parsedArgs: IPVSAdmCommand
                do throws(LVSError) {
                    parsedArgs = try IPVSAdmParser.parse(args)
                } catch {
                    return fail(.badInput(located(error.message, input, wordIndex: 0)))
                }
                guard parsedArgs.command.changesState, parsedArgs.command != .restore else {
                    items.append(.ipvsadm(args, filter: filter))
                    continue
                }
                if candidate == nil { candidate = readCandidate() }
                let before = candidate!.changes.count
                candidate!.location = location(input, wordIndex: 0)
                do throws(LVSError) {
                    for w in parsedArgs.warnings { candidate!.warn(w) }
                    for op in parsedArgs.operations { try candidate!.apply(op, "ipvsadm \(args.joined(separator: " "))") }
                } catch {
                    return fail(.init(error.code, located(error.message, input, wordIndex: 0)))
                }
                items.append(.changes(before..<candidate!.changes.count))
            case .change(let handler):
                if candidate == nil { candidate = editsOnly ? editCandidate() : readCandidate() }
                let before = candidate!.changes.count
                candidate!.location = location(input, wordIndex: 0)
                do throws(LVSError) {
                    try handler(bindings, &candidate!)
                } catch {
                    return fail(.init(error.code, located(error.message, input, wordIndex: 0)))
                }
                items.append(.changes(before..<candidate!.changes.count))
                changeInputs += repeatElement(input, count: candidate!.changes.count - before)
            }
        }
        // What the batch needs and did not say (forwarding for NAT) runs after its own changes.
        let said = candidate?.changes.count ?? 0
        candidate?.finish()
        if let c = candidate, c.changes.count > said { items.append(.changes(said..<c.changes.count)) }
        for w in candidate?.warnings ?? [] { session.err(w + "\n") }
        for n in candidate?.notes ?? [] { session.err(n + "\n") }
        let changes = candidate?.changes ?? []

        if session.options.dryRun {
            if items.contains(where: { if case .local = $0 { true } else { false } }) {
                session.out("(commands that act at once, such as set, save or realserver, are not run with --dry-run)\n")
            }
            if changes.isEmpty { session.out("nothing to change\n") }
            for (i, c) in changes.enumerated() { session.out("\(i + 1). \(c.summary)\n") }
            return 0
        }

        var executor = Executor(writers: writers, failAtStep: session.options.failStep)
        var pending: [PlannedChange] = []
        var sent = 0
        func flush() -> Int32? {
            guard !pending.isEmpty else { return nil }
            let report = executor.run(pending)
            sent += pending.count
            pending = []
            guard let failure = report.failure else { return nil }
            if editsOnly, failure.code == .badInput, report.undoFailures.isEmpty,
               let error = recheck(changes[..<sent], inputs: changeInputs) {
                return fail(error)
            }
            var text = failure.message
            if let c = report.failedChange { text = (c.location.map { "\($0): " } ?? "") + c.summary + ": " + text }
            if report.undoFailures.isEmpty {
                text += "\nThe changes already made were undone; the kernel is as it was before this batch."
            } else {
                text += "\nUndoing the changes already made failed too, so the kernel is partly changed:\n  "
                    + report.undoFailures.joined(separator: "\n  ")
            }
            session.err(text + "\n")
            return LVSError.Code.failed.rawValue
        }
        for item in items {
            switch item {
            case .changes(let range):
                pending += changes[range]
            case .show(let action, let bindings, let filter):
                if let code = flush() { return code }
                guard case .show(let render) = action else { continue }
                do throws(LVSError) {
                    let text = try render(bindings, session.showContext)
                    session.out(filter?.apply(text) ?? text)
                } catch {
                    return fail(error)
                }
            case .ipvsadm(let args, let filter):
                if let code = flush() { return code }
                var captured = ""
                let code = Shell.runIPVSAdm(args, control: session.control, stdin: { StandardStream.readAll(0) },
                                            out: { captured += $0 }, err: session.err,
                                            readConnections: { () throws(LVSError) in try ConnectionReader.read() })
                session.out(filter?.apply(captured) ?? captured)
                if code != 0 { return code }
            case .help(let topic):
                session.out(Catalog.help(topic))
            case .local(let action, let bindings):
                if let code = flush() { return code }
                do throws(LVSError) {
                    session.out(try action(bindings, session))
                } catch {
                    // An empty message: the action reported already and only sets the exit code.
                    if error.message.isEmpty { return error.code.rawValue }
                    return fail(error)
                }
            }
        }
        return flush() ?? 0
    }

    private var writers: KernelWriters {
        let session = self.session
        return KernelWriters(ipvs: { () throws(LVSError) in session.control },
                             marks: { () throws(LVSError) in try session.marks() },
                             writeSysctl: session.writeSysctl)
    }

    /// `group NAME add ...` or `group NAME del ...`.
    static func isEntryEdit(_ command: Command, _ bindings: Bindings) -> Bool {
        command.name == "group" && (bindings.has("add") || bindings.has("del"))
    }

    /// The candidate of an edits-only batch: nothing read (see `run`).
    private func editCandidate() -> Candidate {
        var c = Candidate(table: IPVSTable(), daemons: [], timeouts: .kernelDefault, groups: [], readSysctl: session.readSysctl)
        c.defersGroupChecks = true
        return c
    }

    /// The backend refused an edits-only batch as bad input (nothing is applied: a refused transaction
    /// changes nothing, and the executor undid any earlier one). Checks the edits again, in order,
    /// against the groups read whole, to give the error with the command at fault, as a batch that read
    /// the groups first would have; nil if they pass now (the groups changed meanwhile).
    private func recheck(_ changes: ArraySlice<PlannedChange>, inputs: [CommandInput]) -> LVSError? {
        var full = readCandidate()
        for (change, input) in zip(changes, inputs) {
            guard case .groups(let edit) = change.step else { continue }
            do throws(LVSError) {
                try full.apply(edit, change.summary)
            } catch {
                return .init(error.code, located(error.message, input, wordIndex: 0))
            }
        }
        return nil
    }

    /// The kernel's state as the batch starts; what cannot be read makes the commands that need it fail.
    private func readCandidate() -> Candidate {
        var table = IPVSTable(), daemons: [SyncDaemon] = [], timeouts = Timeouts.kernelDefault
        var ipvsError: LVSError? = nil
        do throws(LVSError) {
            table = try session.control.table(.complete)
            daemons = try session.control.daemons()
            timeouts = try session.control.timeouts()
        } catch {
            ipvsError = error
        }
        var groups: [PortGroup] = []
        var groupsError: LVSError? = nil
        do throws(LVSError) {
            groups = try session.marks().groups()
        } catch {
            groupsError = error
        }
        var c = Candidate(table: table, daemons: daemons, timeouts: timeouts, groups: groups, readSysctl: session.readSysctl)
        c.autoSysctl = session.options.autoSysctl
        c.ipvsUnavailable = ipvsError
        c.groupsUnavailable = groupsError
        return c
    }

    private func splitFilter(_ input: CommandInput) throws(LVSError) -> ([String], Filter?) {
        let words = input.words
        guard let bar = words.firstIndex(of: "|") else { return (words, nil) }
        let tail = Array(words[(bar + 1)...])
        guard tail.count == 2, "include".hasPrefix(tail[0]), !tail[0].isEmpty else {
            throw .badInput(located("after '|' give `include REGEX`", input, wordIndex: bar))
        }
        do {
            return (Array(words[..<bar]), Filter(regex: try Regex(tail[1])))
        } catch {
            throw .badInput(located("'\(tail[1])' is not a regular expression: \(error)", input, wordIndex: bar + 2))
        }
    }

    private func location(_ input: CommandInput, wordIndex: Int) -> SourceLocation {
        let token = wordIndex < input.tokens.count ? input.tokens[wordIndex] : input.tokens.last!
        return SourceLocation(file: file, line: token.line, column: token.column)
    }

    /// "FILE:LINE:COL: message", the source line, and a caret under the word.
    private func located(_ message: String, _ input: CommandInput, wordIndex: Int) -> String {
        let at = wordIndex < input.tokens.count ? input.tokens[wordIndex] : nil
        let token = at ?? input.tokens.last!
        let column = at?.column ?? (token.column + token.text.count + 1)
        var text = "\(file):\(token.line):\(column): \(message)"
        if token.line == input.line {
            text += "\n  \(input.source)\n  \(String(repeating: " ", count: max(0, column - 1)))^"
        }
        return text
    }

    private func fail(_ error: LVSError) -> Int32 {
        session.err(error.message + "\n")
        return error.code.rawValue
    }
}
