#if canImport(Glibc)
import Glibc
#endif
import CEditLine
import LVSModel
import Shell

/// `lvsh` on a terminal: libedit editing and history, `?` for what may come next, TAB completion of
/// keywords and of the kernel's values, Ctrl-C to drop the line, Ctrl-D (on an empty line) to leave.
public final class InteractiveConsole {
    let session: Session
    let language: ConsoleLanguage
    let promptText: String
    let historyPath: String?
    private var editor: LineEditor?
    /// Set by Ctrl-C: the line that el_gets returns next is dropped, not run.
    private var cancelled = false

    public init(session: Session, live: LiveValues? = nil, prompt: String? = nil,
                historyPath: String? = HistoryFile.path()) {
        self.session = session
        language = ConsoleLanguage(live: live ?? .kernel(session))
        promptText = prompt ?? Prompt.text(host: Prompt.hostName(), backend: session.backendName, namespace: .current())
        self.historyPath = historyPath
    }

    /// Runs until Ctrl-D or `quit`; the exit code of the last command.
    public func run() -> Int32 {
        let client = Unmanaged.passUnretained(self).toOpaque()
        guard let editor = LineEditor(prompt: promptText, historyPath: historyPath, client: client,
                                      prompt: { el in InteractiveConsole.of(el)?.editor?.prompt }) else {
            return session.runConsole()
        }
        self.editor = editor
        let state = ConsoleState()
        session.console = state
        defer {
            self.editor = nil
            session.console = nil
        }
        // Ctrl-C reaches the editor as a key rather than as SIGINT, so that it can drop just the line.
        // (The terminal's other signal keys, Ctrl-Z and Ctrl-\, go with it while a line is edited.)
        editor.command(["setty", "-d", "-isig"])
        editor.bind("^I", name: "lvsh-complete", help: "complete the word") { el, _ in
            InteractiveConsole.of(el)?.complete() ?? UInt8(CC_ERROR)
        }
        editor.bind("?", name: "lvsh-describe", help: "list what may come next") { el, _ in
            InteractiveConsole.of(el)?.describe() ?? UInt8(CC_ERROR)
        }
        editor.bind("^C", name: "lvsh-cancel", help: "drop the line") { el, _ in
            InteractiveConsole.of(el)?.cancel() ?? UInt8(CC_ERROR)
        }
        lvsh_catch_sigint()

        var last: Int32 = 0
        while true {
            switch editor.readLine() {
            case .end:
                session.out("\n")
                return last
            case .interrupted:
                continue
            case .line(let line):
                if cancelled {
                    cancelled = false
                    continue
                }
                guard line.contains(where: { !$0.isWhitespace }) else { continue }
                // A completion leaves a space at the end; history keeps the command without it.
                editor.remember(String(line.reversed().drop(while: { $0 == " " || $0 == "\t" }).reversed()))
                state.hold()
                let (code, quit) = session.runConsoleLine(line)
                show(state.release(), pager: state.pager && !state.pagerRefused)
                last = code
                if quit { return last }
            }
        }
    }

    /// Writes what a line printed (the session writes through once the hold is released), in order; its standard output through the pager when that is on and
    /// the output is taller than the terminal (standard output a terminal: never into a file or pipe).
    private func show(_ chunks: [(toError: Bool, text: String)], pager: Bool) {
        let text = chunks.filter { !$0.toError }.map(\.text).joined()
        let size = Pager.terminalSize(1)
        guard pager, isatty(1) != 0, Pager.pages(rows: Pager.rows(text, width: size.columns), height: size.rows),
              let first = chunks.firstIndex(where: { !$0.toError }) else {
            for chunk in chunks { chunk.toError ? session.err(chunk.text) : session.out(chunk.text) }
            return
        }
        // Errors said before the output come before the pager, the others after it.
        for chunk in chunks[..<first] { session.err(chunk.text) }
        if !Pager.run(text, argv: Pager.argv()) { session.out(text) }
        for chunk in chunks[first...] where chunk.toError { session.err(chunk.text) }
    }

    private static func of(_ el: OpaquePointer?) -> InteractiveConsole? {
        guard let el, let client = lvsh_el_get_clientdata(el) else { return nil }
        return Unmanaged<InteractiveConsole>.fromOpaque(client).takeUnretainedValue()
    }

    /// TAB: completes the word before the cursor, or lists the candidates when they share no more.
    private func complete() -> UInt8 {
        guard let editor else { return UInt8(CC_ERROR) }
        let line = LineWords(editor.lineAroundCursor.before)
        let candidates = language.completions(for: line)
        if candidates.isEmpty { return UInt8(CC_REFRESH_BEEP) }
        if let text = ConsoleLanguage.insertion(for: line, candidates: candidates) {
            editor.replace(line.partialLength, with: text)
            return UInt8(CC_REFRESH)
        }
        return printBelowLine(ConsoleLanguage.columns(candidates, width: terminalWidth))
    }

    /// `?`: lists the possible next words with their help, then redraws the line as it was.
    private func describe() -> UInt8 {
        guard let editor else { return UInt8(CC_ERROR) }
        let line = LineWords(editor.lineAroundCursor.before)
        if language.takesQuestionMarkLiterally(line) {
            editor.replace(0, with: "?")
            return UInt8(CC_REFRESH)
        }
        return printBelowLine(language.help(for: line))
    }

    /// Ctrl-C: shows ^C at the end of the line and ends it; the loop drops it.
    private func cancel() -> UInt8 {
        guard let editor else { return UInt8(CC_ERROR) }
        cancelled = true
        editor.moveCursor(editor.lineAroundCursor.bytesAfter)
        editor.replace(0, with: "^C")
        // A newline key, so that libedit's own newline function moves below the line as it does for Enter.
        editor.push("\n")
        return UInt8(CC_REFRESH)
    }

    /// Prints text under the line being edited and redraws prompt and line after it.
    private func printBelowLine(_ text: String) -> UInt8 {
        guard let editor else { return UInt8(CC_ERROR) }
        // From the cursor down past the line's last row (it may wrap), then the text.
        let (before, after) = editor.lineAroundCursor
        let width = terminalWidth, promptWidth = promptText.count
        let rowsBelow = (promptWidth + before.count + after) / width - (promptWidth + before.count) / width
        session.out(String(repeating: "\n", count: rowsBelow + 1) + text)
        lvsh_el_redraw(editor.el)
        return UInt8(CC_NORM)
    }

    private var terminalWidth: Int {
        let columns = Int(lvsh_terminal_columns(1))
        return columns > 0 ? columns : 80
    }
}
