#if canImport(Glibc)
import Glibc
#endif
import CEditLine
import Shell
import System

/// libedit's editor and history, wrapped. Its native API (histedit.h) rather than the readline layer,
/// because it lets `?`, TAB and Ctrl-C be bound to lvsh's own functions. Those are C callbacks that
/// cannot capture anything: they find their console through EL_CLIENTDATA (`client`).
final class LineEditor {
    typealias KeyFunction = @convention(c) (OpaquePointer?, Int32) -> UInt8
    typealias PromptFunction = @convention(c) (OpaquePointer?) -> UnsafeMutablePointer<CChar>?

    let el: OpaquePointer
    private let history: OpaquePointer
    private let historyPath: String?
    /// The prompt as C text, alive as long as the editor: libedit asks for it on every redraw.
    let prompt: UnsafeMutablePointer<CChar>
    private var warnedAboutHistory = false

    init?(prompt text: String, historyPath: String?, client: UnsafeMutableRawPointer, prompt function: PromptFunction) {
        guard let el = lvsh_el_init("lvsh"), let history = history_init() else { return nil }
        self.el = el
        self.history = history
        self.historyPath = historyPath
        prompt = strdup(text)
        lvsh_history_setsize(history, 1000)
        lvsh_history_setunique(history, 1)
        if let historyPath { lvsh_history_load(history, historyPath) }
        lvsh_el_set_clientdata(el, client)
        lvsh_el_set_history(el, history)
        lvsh_el_set_prompt(el, function)
        lvsh_el_set_editor(el, "emacs")
        // libedit puts the terminal back and redraws on SIGWINCH, SIGCONT and fatal signals.
        lvsh_el_set_signal(el, 1)
        // The user's ~/.editrc (lines may start with "lvsh:"); before lvsh's own bindings, so that a
        // `bind -v` there, which rebuilds the key maps, does not drop them.
        el_source(el, nil)
    }

    deinit {
        history_end(history)
        el_end(el)
        free(prompt)
    }

    /// Runs an editline builtin, e.g. ["bind", "^I", "lvsh-complete"].
    @discardableResult
    func command(_ argv: [String]) -> Int32 {
        let c = argv.map { UnsafePointer(strdup($0)) }
        defer { c.forEach { free(UnsafeMutablePointer(mutating: $0)) } }
        return c.withUnsafeBufferPointer { el_parse(el, Int32(c.count), UnsafeMutablePointer(mutating: $0.baseAddress)) }
    }

    /// Binds `key` (editline notation: "^I", "?") to a function of lvsh's.
    func bind(_ key: String, name: String, help: String, _ function: KeyFunction) {
        lvsh_el_add_function(el, name, help, function)
        command(["bind", key, name])
    }

    enum Input {
        case line(String)
        /// A signal interrupted the read (nothing was typed away).
        case interrupted
        /// Ctrl-D on an empty line, or the terminal went away.
        case end
    }

    /// One edited line, without its newline.
    func readLine() -> Input {
        var count: Int32 = 0
        guard let line = el_gets(el, &count), count > 0 else {
            return count < 0 && errno == EINTR ? .interrupted : .end
        }
        var text = String(cString: line)
        if text.hasSuffix("\n") { text.removeLast() }
        return .line(text)
    }

    /// The buffer up to the cursor, and how many bytes follow it.
    var lineAroundCursor: (before: String, bytesAfter: Int) {
        guard let info = el_line(el)?.pointee, let buffer = info.buffer, let cursor = info.cursor,
              let last = info.lastchar else { return ("", 0) }
        let count = cursor - buffer
        let before = buffer.withMemoryRebound(to: UInt8.self, capacity: count) {
            String(decoding: UnsafeBufferPointer(start: $0, count: count), as: UTF8.self)
        }
        return (before, last - cursor)
    }

    /// Replaces the `characters` before the cursor with `text`.
    func replace(_ characters: Int, with text: String) {
        if characters > 0 { el_deletestr(el, Int32(characters)) }
        if !text.isEmpty { el_insertstr(el, text) }
    }

    /// Moves the cursor `n` characters right (left when negative); libedit stops it at the line's ends.
    func moveCursor(_ n: Int) { el_cursor(el, Int32(clamping: n)) }

    /// Queues keys as if typed.
    func push(_ keys: String) { el_push(el, keys) }

    /// Adds a line to the history and writes the history file, so that it survives a crash or a kill.
    func remember(_ line: String) {
        lvsh_history_enter(history, line)
        guard let path = historyPath else { return }
        // Commands may name hosts and addresses: the file is the user's alone.
        let fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0o600)
        if fd >= 0 { close(fd) }
        if lvsh_history_save(history, path) < 0 && !warnedAboutHistory {
            warnedAboutHistory = true
            StandardStream.write("lvsh: cannot save the history to \(path): \(String(cString: strerror(errno))); set LVSH_HISTORY to another file\n", to: 2)
        }
    }
}
