import Engine
import Firewall
import IPVS
import LVSModel
import System

/// Runs a list of commands as one unit: every command is parsed (files named by `load` included) and
/// checked against the candidate state first; shows and files are made from the state at their place;
/// then the changes are committed in one transaction, and only then is output printed and files written.
/// A refusal anywhere applies nothing; a kernel failure part-way undoes everything the batch changed.
struct Batch {
    let session: Session
    let file: String
    /// The commands as given (not the files they load), for the change's record.
    private var text = ""

    /// A parsed command and where it came from.
    private struct Parsed {
        let input: CommandInput
        let command: Command
        let bindings: Bindings
        let filter: OutputFilter?
        /// The file the command was read from (a `load`ed file's name for its commands).
        let file: String
        /// An `ipvsadm` line, parsed once by the registered language.
        var embedded: EmbeddedLine? = nil
    }

    /// What the batch does after its commit, in order.
    private enum Output {
        case text(String)
        case write(FileWrite)
    }

    /// How deep `load` may nest: a file that loads itself is refused long before this.
    static let maxLoadDepth = 16

    init(session: Session, file: String) {
        self.session = session
        self.file = file
    }

    mutating func run(_ commands: [CommandInput]) -> Int32 {
        // Commands on one line share that line as their source: each line once.
        var lines: [String] = []
        var lastLine = 0
        for c in commands where c.line != lastLine {
            lines.append(c.source)
            lastLine = c.line
        }
        text = lines.joined(separator: "\n")
        var parsed: [Parsed] = []
        do throws(LVSError) {
            try expand(commands, file: file, into: &parsed, loading: [])
        } catch {
            return fail(error)
        }
        guard let first = parsed.first else { return 0 }
        if let forward = session.forward, parsed.contains(where: needsDaemon) {
            return forwarded(parsed, to: forward)
        }
        if let solo = parsed.first(where: { if case .alone = $0.command.handler { true } else { readsInput($0) } }) {
            guard parsed.count == 1 else {
                return fail(.badInput(located("`\(solo.command.name)` works on the whole state, so it runs as a batch of its own; "
                    + "run it alone (a separate `lvsh` call or console line)", solo, wordIndex: 0)))
            }
            return runAlone(first)
        }
        return runTransaction(parsed)
    }

    /// The batch checked against the candidate: what to commit, and what to print or write after it.
    private struct Checked {
        var lock: WriterLock?
        var tx: Transaction?
        var outputs: [Output] = []
        /// The command each change came from, to locate an edit that the backend refuses.
        var changeInputs: [Parsed] = []
        /// Whether the batch changes nothing but group entries (see `check`).
        var editsOnly = false
    }

    /// The batch as one transaction (see the type's comment).
    private func runTransaction(_ parsed: [Parsed]) -> Int32 {
        var checked: Checked
        do throws(LVSError) {
            checked = try check(parsed)
        } catch {
            return fail(error)
        }
        defer { withExtendedLifetime(checked.lock) {} }
        return commit(&checked)
    }

    /// Takes the lock when the batch writes, then checks each command at its place.
    private func check(_ parsed: [Parsed]) throws(LVSError) -> Checked {
        var c = Checked()
        let writing = parsed.contains { self.changes($0) } && !session.options.dryRun
        // A batch that changes nothing but entries (`group NAME add|del ...`) reads neither IPVS nor the
        // groups: checking an edit here would cost a read of every entry of every group. The backend
        // checks the edits as it applies them; --dry-run checks here as usual.
        c.editsOnly = writing && parsed.contains { Self.isEntryEdit($0.command, $0.bindings) }
            && parsed.allSatisfy { p in
                switch p.command.handler {
                case .change: Self.isEntryEdit(p.command, p.bindings)
                case .show, .help, .quit: true
                default: false
                }
            }
        // Writers hold the namespace's lock from reading the kernel to their last write.
        if writing { c.lock = try session.runtime().map { dir throws(LVSError) in try WriterLock(dir) } }
        for p in parsed { try check(p, &c) }
        return c
    }

    /// One command at its place: a change goes into the candidate, a show or a file is made from the
    /// state there (the kernel before the first change, the candidate after it).
    private func check(_ p: Parsed, _ c: inout Checked) throws(LVSError) {
        // Made only for the commands that read it: a view holds a copy of the candidate, and the next
        // change would then copy the candidate's storage whole (a quadratic batch).
        var context: ShowContext {
            guard var context = c.tx?.showContext(json: session.options.json, connections: { () throws(LVSError) in try ConnectionReader.read() })
            else { return session.showContext }
            context.healthStatus = session.healthStatus
            return context
        }
        switch p.command.handler {
        case .quit, .include, .alone:
            return
        case .help:
            let text = try at(p) { () throws(LVSError) in try Catalog.help(p.bindings.all("topic")) }
            c.outputs.append(.text(p.filter?.apply(text) ?? text))
        case .session(let action):
            c.outputs.append(.text(try at(p) { () throws(LVSError) in try action(p.bindings, session) }))
        case .show(let render):
            let text = try render(p.bindings, context)
            c.outputs.append(.text(p.filter?.apply(text) ?? text))
        case .write(let make):
            c.outputs.append(.write(try at(p) { () throws(LVSError) in
                let w = try make(p.bindings, context, session.options)
                try AtomicFile.check(w.path)
                return w
            }))
        case .ipvsadm:
            let args = p.bindings.all("args")
            let language = try ipvsadm(p)
            let line = p.embedded!
            guard line.changesState else { return c.outputs.append(.text(try listing(args, p, context, language))) }
            try change(p, &c, editsOnly: false) { (candidate: inout Candidate) throws(LVSError) in
                candidate.wording = language.wording
                defer { candidate.wording = LVSHWording() }
                for w in line.warnings { candidate.warn(w) }
                for op in line.operations { try candidate.apply(op, "ipvsadm \(args.joined(separator: " "))") }
            }
        case .change(let handler):
            try change(p, &c, editsOnly: c.editsOnly) { (candidate: inout Candidate) throws(LVSError) in try handler(p.bindings, &candidate) }
        }
    }

    /// A command's changes to the candidate, which the first change reads from the kernel.
    private func change(_ p: Parsed, _ c: inout Checked, editsOnly: Bool,
                        _ body: (inout Candidate) throws(LVSError) -> Void) throws(LVSError) {
        if c.tx == nil { c.tx = try begin(editsOnly: editsOnly) }
        let before = c.tx!.candidate.changes.count
        c.tx!.candidate.location = location(p, wordIndex: 0)
        try at(p) { () throws(LVSError) in try body(&c.tx!.candidate) }
        c.changeInputs += repeatElement(p, count: c.tx!.candidate.changes.count - before)
    }

    /// Commits the checked batch (or prints its plan with --dry-run), then prints and writes.
    private func commit(_ c: inout Checked) -> Int32 {
        // What the batch needs and did not say (forwarding for NAT) comes after its own changes.
        c.tx?.candidate.finish()
        for w in c.tx?.candidate.warnings ?? [] { session.err(w + "\n") }
        for n in c.tx?.candidate.notes ?? [] { session.err(n + "\n") }
        let planned = c.tx?.candidate.changes ?? []
        if session.options.dryRun {
            if c.outputs.contains(where: { if case .write = $0 { true } else { false } }) {
                session.out("(save and set write files; with --dry-run they are not run)\n")
            }
            if planned.isEmpty { session.out("nothing to change\n") }
            for (i, change) in planned.enumerated() { session.out("\(i + 1). \(change.summary)\n") }
            return 0
        }
        if session.health != nil, c.tx != nil {
            do throws(LVSError) {
                try c.tx!.candidate.finishHealth()
            } catch {
                return fail(error)
            }
        }
        if !planned.isEmpty {
            let report = c.tx!.execute(planned)
            if report.failure != nil {
                var error = Transaction.failure(of: report, before: "this batch")!
                if c.editsOnly, report.failure?.code == .badInput, report.undoFailures.isEmpty,
                   let located = recheck(planned[...], inputs: c.changeInputs) {
                    error = located
                }
                record(planned, failure: error)
                return fail(error)
            }
            // Recorded while the batch still holds the writer lock: the archived configuration is this batch's.
            record(planned, failure: nil)
        }
        if session.health != nil, c.tx != nil { session.health = c.tx!.candidate.health }
        return emit(c.outputs, committed: !planned.isEmpty)
    }

    /// The batch's change in the archive and the log (sessions that keep a history).
    private func record(_ planned: [PlannedChange], failure: LVSError?) {
        let (front, source) = ChangeHistory.front(ofBatch: file, text: text)
        session.recordChange(front: front, source: source, steps: planned.map(\.summary), failure: failure)
    }

    /// Prints the outputs and writes the files, in the batch's order, once the kernel has the changes.
    private func emit(_ outputs: [Output], committed: Bool) -> Int32 {
        for output in outputs {
            switch output {
            case .text(let text):
                session.out(text)
            case .write(let w):
                do throws(LVSError) {
                    try session.writeFile(w)
                    session.out(w.done)
                } catch {
                    let prefix = committed ? "the batch's changes are in the kernel, but " : ""
                    return fail(LVSError(.failed, prefix + "writing \(w.path) failed: " + error.message, errno: error.errno))
                }
            }
        }
        return 0
    }

    private func begin(editsOnly: Bool) throws(LVSError) -> Transaction {
        var tx = try Transaction(session.kernel, reads: editsOnly ? .nothing : .everything, writing: !session.options.dryRun,
                                 autoSysctl: session.options.autoSysctl, failAtStep: session.options.failStep)
        tx.wording = LVSHWording()
        tx.candidate.wording = LVSHWording()
        if let health = session.health {
            tx.candidate.keepsHealth = true
            tx.candidate.health = health
        }
        return tx
    }

    /// A command that works on the whole state, or `ipvsadm -R`, as a batch of its own.
    private func runAlone(_ p: Parsed) -> Int32 {
        if case .alone(let action) = p.command.handler {
            do throws(LVSError) {
                return try action(p.bindings, session)
            } catch {
                return fail(error)
            }
        }
        return session.runIPVSAdm(p.bindings.all("args"))
    }

    /// The ipvsadm language the executable registered.
    private func ipvsadm(_ p: Parsed) throws(LVSError) -> any EmbeddedLanguage {
        guard let language = session.options.ipvsadm else {
            throw .badInput(located("ipvsadm lines need lvsh's ipvsadm front, which this program does not include", p, wordIndex: 0))
        }
        return language
    }

    /// An ipvsadm listing of the state at the command's place.
    private func listing(_ args: [String], _ p: Parsed, _ context: ShowContext, _ language: any EmbeddedLanguage) throws(LVSError) -> String {
        var text = "", problems = ""
        let control = try context.ipvs()
        let code = language.run(args, control: control, stdin: { "" }, out: { text += $0 }, err: { problems += $0 },
                                readConnections: context.connections)
        if code != 0 {
            throw LVSError(LVSError.Code(rawValue: code) ?? .failed, problems.hasSuffix("\n") ? String(problems.dropLast()) : problems)
        }
        if !problems.isEmpty { session.err(problems) }
        return p.filter?.apply(text) ?? text
    }

    /// Parses the commands, reading the files that `load` names in their place; stops at `quit`.
    private func expand(_ commands: [CommandInput], file: String, into parsed: inout [Parsed], loading: [String]) throws(LVSError) {
        var memo = ParseMemo()
        for input in commands {
            let (words, filter) = try OutputFilter.split(input, located: { message, index in located(message, input, file: file, wordIndex: index) })
            let command: Command, bindings: Bindings
            switch Catalog.table.parse(words, memo: &memo) {
            case .success(let r): (command, bindings) = r
            case .failure(let f): throw .badInput(located(f.message, input, file: file, wordIndex: f.wordIndex))
            }
            var p = Parsed(input: input, command: command, bindings: bindings, filter: filter, file: file)
            if case .ipvsadm = command.handler {
                let language = try ipvsadm(p)
                p.embedded = try at(p) { () throws(LVSError) in try language.parse(bindings.all("args")) }
            }
            if let filter {
                guard Self.prints(p) else {
                    throw .badInput(located("'|' filters what show commands, ipvsadm listings and help print; `\(command.name)` prints "
                                            + "no listing to filter (remove the '|' and what follows it)", input, file: file,
                                            wordIndex: words.count))
                }
                if filter.refusesPager { session.console?.pagerRefused = true }
            }
            switch command.handler {
            case .quit:
                // `quit` ends the batch: what follows it is not run, as in the console.
                return
            case .include:
                let path = bindings.first("file")!
                guard !loading.contains(path), loading.count < Self.maxLoadDepth else {
                    throw .badInput(located("\(path) is already being loaded (\(loading.joined(separator: " → "))); a file cannot load itself",
                                            input, file: file, wordIndex: 1))
                }
                let text: String
                do throws(LVSError) {
                    text = try session.input(path)
                } catch {
                    throw .badInput(located(error.message, input, file: file, wordIndex: 1))
                }
                try expand(try Tokenizer.commands(in: text, file: path), file: path, into: &parsed, loading: loading + [path])
            default:
                parsed.append(p)
            }
        }
    }

    /// Whether the daemon must run a command: it changes the state, writes a file of it, or shows the
    /// configuration (whose desired weights and checks only the daemon knows).
    private func needsDaemon(_ p: Parsed) -> Bool {
        switch p.command.handler {
        case .change, .write: return true
        case .ipvsadm: return p.embedded?.changesState ?? false
        case .alone: return ["apply", "confirm", "rollback"].contains(p.command.name)
        case .show: return ["show running-config", "show health", "show checks"].contains(p.command.name)
        case .help, .quit, .include, .session: return false
        }
    }

    /// Sends the batch, `load`ed files read here and in place, to the daemon; prints its answer and
    /// writes the files it made (paths are the front's).
    private func forwarded(_ parsed: [Parsed], to forward: (ControlRequest) throws(LVSError) -> ControlReply) -> Int32 {
        // Each command once, as its words: a source line is shown text (escaped, cut after 256
        // bytes) and holds every command of the line, so sending lines repeated `a; b` and cut long ones.
        let text = parsed.map { $0.input.words.map(HealthText.quoted).joined(separator: " ") }.joined(separator: "\n") + "\n"
        var request = ControlRequest(name: file, text: text, options: session.options)
        if let apply = parsed.first, case .alone = apply.command.handler, apply.command.name == "apply" {
            let path = apply.bindings.first("file")!
            do throws(LVSError) {
                request.files[path] = try Session.readInput(path)
            } catch {
                return fail(.badInput(located(error.message, apply, wordIndex: 1)))
            }
        }
        let reply: ControlReply
        do throws(LVSError) {
            reply = try forward(request)
        } catch {
            return fail(error)
        }
        session.err(reply.err)
        session.out(reply.out)
        for w in reply.writes {
            // The daemon's output already says "saved to PATH".
            do throws(LVSError) {
                try AtomicFile.write(w.contents, to: w.path)
            } catch {
                return fail(LVSError(.failed, "lvsh daemon made the changes, but writing \(w.path) failed: " + error.message, errno: error.errno))
            }
        }
        return reply.code
    }

    /// Whether a command changes the state (and so needs the lock and a candidate).
    private func changes(_ p: Parsed) -> Bool {
        switch p.command.handler {
        case .change: return true
        case .ipvsadm: return p.embedded?.changesState ?? false
        default: return false
        }
    }

    /// Whether a command prints a listing that `|` can filter.
    private static func prints(_ p: Parsed) -> Bool {
        switch p.command.handler {
        case .show, .help: return true
        case .ipvsadm: return !(p.embedded?.changesState ?? true) && !(p.embedded?.readsInput ?? true)
        default: return false
        }
    }

    /// An ipvsadm line that reads its own input (`-R`).
    private func readsInput(_ p: Parsed) -> Bool {
        guard case .ipvsadm = p.command.handler else { return false }
        return p.embedded?.readsInput ?? false
    }

    /// `group NAME add ...` or `group NAME del ...`.
    static func isEntryEdit(_ command: Command, _ bindings: Bindings) -> Bool {
        command.name == "group" && (bindings.has("add") || bindings.has("del"))
    }

    /// The backend refused an edits-only batch as bad input (nothing is applied: a refused transaction
    /// changes nothing, and the executor undid any earlier one). Checks the edits again, in order,
    /// against the groups read whole, to give the error with the command at fault, as a batch that read
    /// the groups first would have; nil if they pass now (the groups changed meanwhile).
    private func recheck(_ changes: ArraySlice<PlannedChange>, inputs: [Parsed]) -> LVSError? {
        var full = Transaction.read(session.kernel)
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

    /// Runs `body`, locating its error at the command.
    private func at<T>(_ p: Parsed, _ body: () throws(LVSError) -> T) throws(LVSError) -> T {
        do throws(LVSError) {
            return try body()
        } catch {
            throw LVSError(error.code, located(error.message, p, wordIndex: 0), errno: error.errno)
        }
    }

    private func location(_ p: Parsed, wordIndex: Int) -> SourceLocation {
        let token = wordIndex < p.input.tokens.count ? p.input.tokens[wordIndex] : p.input.tokens.last!
        return SourceLocation(file: p.file, line: token.line, column: token.column)
    }

    private func located(_ message: String, _ p: Parsed, wordIndex: Int) -> String {
        located(message, p.input, file: p.file, wordIndex: wordIndex)
    }

    /// "FILE:LINE:COL: message", the source line, and a caret under the word.
    private func located(_ message: String, _ input: CommandInput, file: String, wordIndex: Int) -> String {
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
