#if canImport(Glibc)
import Glibc
#endif
import CEditLine
import System

/// Console output taller than the terminal, through a pager: $PAGER (run by /bin/sh, as man does),
/// else `less -FRX` (quit at once when it fits, keep colours, leave the text on the screen).
public enum Pager {
    /// The pager's command line for an environment.
    public static func argv(environment: (String) -> String? = { getenv($0).map { String(cString: $0) } }) -> [String] {
        if let pager = environment("PAGER"), pager.contains(where: { !$0.isWhitespace }) { return ["/bin/sh", "-c", pager] }
        return ["less", "-FRX"]
    }

    /// The rows `text` takes on a terminal `width` columns wide (long lines wrap).
    public static func rows(_ text: String, width: Int) -> Int {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        if lines.last == "" { lines.removeLast() }
        let width = max(1, width)
        return lines.reduce(0) { $0 + max(1, ($1.count + width - 1) / width) }
    }

    /// Whether text of `rows` rows is paged on a terminal of `height` rows: when it would scroll the
    /// start of it (and the prompt's row) out of sight. `height` 0 is a terminal of unknown size.
    public static func pages(rows: Int, height: Int) -> Bool {
        height > 0 && rows > height - 1
    }

    /// The terminal's size on `fd`: (columns, rows), zeros when it is not a terminal.
    static func terminalSize(_ fd: Int32) -> (columns: Int, rows: Int) {
        (Int(lvsh_terminal_columns(fd)), Int(lvsh_terminal_rows(fd)))
    }

    /// Runs the pager with `text` on its standard input and waits for it; false when it cannot start
    /// (the caller then prints the text itself).
    static func run(_ text: String, argv: [String]) -> Bool {
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { return false }
        let (readEnd, writeEnd) = (fds[0], fds[1])
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, readEnd, 0)
        posix_spawn_file_actions_addclose(&actions, readEnd)
        posix_spawn_file_actions_addclose(&actions, writeEnd)
        // The pager gets SIGPIPE and SIGINT as programs expect them, whatever the console set for itself.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var defaults = sigset_t()
        sigemptyset(&defaults)
        sigaddset(&defaults, SIGPIPE)
        sigaddset(&defaults, SIGINT)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF))
        let args = argv.map { strdup($0) } + [nil]
        defer { args.forEach { free($0) } }
        var pid = pid_t()
        let rc = posix_spawnp(&pid, argv[0], &actions, &attributes, args, environ)
        close(readEnd)
        guard rc == 0 else {
            close(writeEnd)
            return false
        }
        // A pager left before the end (q) closes the pipe: the rest is not wanted, and EPIPE, not
        // SIGPIPE, must tell us so.
        let previous = signal(SIGPIPE, SIG_IGN)
        StandardStream.write(text, to: writeEnd)
        close(writeEnd)
        signal(SIGPIPE, previous)
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        // exec failed in the child (posix_spawnp reports that only as exit 127).
        return !(status & 0x7f == 0 && (status >> 8) & 0xff == 127)
    }
}
