import LVSModel
import System

/// The configuration archive (ChangeHistory): `show archive`, `show diff archive N`, `rollback N`.
/// N counts back from the newest: 0 is the configuration of the last committed change, 1 the one
/// before it (Junos's `rollback 1`).
enum HistoryCommands {
    static let number: Syntax = .value("n", .number(0...UInt64(ConfigArchive.defaultKeep - 1)),
                                       help: "0 the configuration now, 1 the one before the last change, ...")

    static let commands: [Command] = [
        Command(.sequence([.word("show", help: "show the kernel's state"),
                           .word("archive", help: "the configurations lvsh committed, newest first"), ShowCommands.json]),
                summary: "list the archived configurations: N (0 the current), time, user, front and what changed",
                examples: ["show archive", "show archive json"], handler: .alone(list)),
        Command(.sequence([.word("show", help: "show the kernel's state"), .word("diff", help: "compare a file with the kernel"),
                           .word("archive", help: "an archived configuration (`show archive` lists them)"), number, ShowCommands.json]),
                summary: "show how the kernel differs from archived configuration N (what `rollback N` would change)",
                examples: ["show diff archive 1"], handler: .alone(diff)),
        Command(.sequence([.word("rollback", help: "make the kernel match an archived configuration"), number]),
                summary: "apply archived configuration N, removing what it does not have (options --check --diff --json --drain S --confirm S)",
                examples: ["rollback 1"], handler: .alone(rollback)),
    ]

    /// What `rollback N` applies: archive N's text, by its name in messages.
    static func entry(_ b: Bindings, _ session: Session) throws(LVSError) -> (name: String, text: String) {
        let n = Int(b.number("n")!)
        return ("archive \(n)", try session.changeHistory.text(n))
    }

    /// rollback's options: apply's, pruning (an archived configuration is everything lvsh managed then).
    static func options(_ session: Session) -> ApplyOptions {
        var options = session.options.apply
        options.json = options.json || session.options.json
        options.check = options.check || session.options.dryRun
        options.prune = true
        return options
    }

    @Sendable static func list(_ b: Bindings, _ session: Session) throws(LVSError) -> Int32 {
        let history = session.changeHistory
        let rows = try history.entries().enumerated().map { ($0.offset, $0.element.record) }
        if session.options.json || b.has("json") {
            session.out(JSON.object([("archive", .array(rows.map { n, r in
                JSON.object([("n", .int(n)), ("time", r.map { .string($0.time) } ?? .null), ("user", r.map { .string($0.user) } ?? .null),
                             ("tty", r.map { .string($0.tty) } ?? .null), ("front", r.map { .string($0.front) } ?? .null),
                             ("source", r.map { .string($0.source) } ?? .null), ("summary", r.map { .string($0.summary) } ?? .null)])
            }))]).text + "\n")
            return 0
        }
        guard !rows.isEmpty else {
            session.out("the configuration archive \(history.archive.folder) holds nothing of this network namespace: no change was committed here since it was started\n")
            return 0
        }
        var lines = [["N", "TIME", "USER", "FRONT", "CHANGE"]]
        for (n, r) in rows {
            lines.append([String(n), r?.time ?? "?", r?.user ?? "?", r?.front ?? "?", r.map { "\($0.source): \($0.summary)" } ?? "(no header)"])
        }
        session.out(HealthShowCommands.table(lines))
        return 0
    }

    @Sendable static func diff(_ b: Bindings, _ session: Session) throws(LVSError) -> Int32 {
        let (name, text) = try entry(b, session)
        var options = Self.options(session)
        options.check = true
        if options.json || b.has("json") {
            options.json = true
            return ApplyRunner(session: session, options: options).run(path: name, text: text)
        }
        let report = try ApplyRunner(session: session, options: options).plan(path: name, text: text)
        session.out(report.diff.isEmpty ? "no differences: the kernel matches \(name)\n" : report.diff)
        return session.options.apply.exitCode && !report.plan.isEmpty ? ApplyRunner.pendingExitCode : 0
    }

    @Sendable static func rollback(_ b: Bindings, _ session: Session) throws(LVSError) -> Int32 {
        let (name, text) = try entry(b, session)
        var runner = ApplyRunner(session: session, options: options(session))
        runner.front = "rollback"
        return runner.run(path: name, text: text)
    }
}

extension Session {
    /// The history `show archive` and `rollback` read: this session's, else LVSH_STATE_DIR's (the
    /// daemon's batches record nothing themselves, but read the daemon's archive).
    var changeHistory: ChangeHistory { history ?? .standard() }
}
