import Glibc
import LVSModel
import Synchronization
import System

/// What a finished tool printed and how it ended.
public struct ToolResult: Sendable {
    /// The exit status; 128 + the signal number when a signal ended it.
    public var status: Int32
    public var stdout: String
    public var stderr: String

    /// The first line of stderr that says something, for error messages; a line ending in ':'
    /// (iptables-nft-restore prints "iptables-nft-restore v1.8.9 (nf_tables): " and the reason on
    /// the next line) is joined with the next.
    var firstErrorLine: String {
        let lines = stderr.split(separator: "\n").map { $0.trimmingSpaces }
            .filter { !$0.isEmpty && !$0.hasPrefix("#") && !$0.hasPrefix("Try `") }
        guard let first = lines.first else { return "(no message; exit status \(status))" }
        return first.hasSuffix(":") && lines.count > 1 ? first + " " + lines[1] : first
    }

    /// The first error line as a sentence: ending in '.', '?' or '!', to be followed by more text.
    var errorSentence: String {
        let line = firstErrorLine
        return line.last.map { ".?!".contains($0) } == true ? line : line + "."
    }
}

/// Runs system tools (iptables-restore and friends) with posix_spawn: no Foundation, no shell.
/// stdin is fed through a pipe while stdout and stderr are drained, all in one poll loop, so
/// that a large restore input cannot deadlock against a tool that writes while it reads.
public enum ToolProcess {
    /// Where a tool is looked for after $PATH: sudo and cron often drop the sbin folders.
    static let fallbackDirectories = ["/usr/sbin", "/sbin", "/usr/bin", "/bin"]

    /// The absolute path of `name`, or nil when no executable of that name exists.
    static func find(_ name: String) -> String? {
        if name.hasPrefix("/") { return access(name, X_OK) == 0 ? name : nil }
        let path = getenv("PATH").map { String(cString: $0) } ?? ""
        let dirs = path.split(separator: ":").map(String.init) + fallbackDirectories
        for dir in dirs where !dir.isEmpty {
            let candidate = dir + "/" + name
            if access(candidate, X_OK) == 0 { return candidate }
        }
        return nil
    }

    /// Runs `name arguments...` to completion. Throws only when the tool cannot be started;
    /// a tool that fails returns its status for the caller to explain.
    public static func run(_ name: String, _ arguments: [String], input: String? = nil) throws(LVSError) -> ToolResult {
        guard let path = find(name) else {
            throw .failed("\(name) was not found in $PATH or /usr/sbin: install Debian's iptables package (apt-get install iptables)")
        }
        let spawned = try spawnLock.withLock { _ throws(LVSError) in try spawn(path, arguments) }
        let (out, err) = exchange(input: Array((input ?? "").utf8), stdin: spawned.stdin,
                                  stdout: spawned.stdout, stderr: spawned.stderr)
        var status: Int32 = 0
        while waitpid(spawned.pid, &status, 0) < 0 && errno == EINTR {}
        // Decode the wait status by hand: the W* macros do not import into Swift.
        let exit: Int32 = status & 0x7f == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        return ToolResult(status: exit, stdout: String(decoding: out, as: UTF8.self),
                          stderr: String(decoding: err, as: UTF8.self))
    }

    /// Glibc's Swift module lacks pipe2 (it needs _GNU_SOURCE), so O_CLOEXEC is set after pipe();
    /// the lock keeps a concurrent spawn from inheriting a pipe in between, which could leave two
    /// tools each waiting for the end of input that the other holds open.
    private static let spawnLock = Mutex(())

    /// Starts the tool with its stdin, stdout and stderr on pipes; returns the parent's ends.
    private static func spawn(_ path: String, _ arguments: [String]) throws(LVSError) -> (pid: pid_t, stdin: Int32, stdout: Int32, stderr: Int32) {
        var fds = [Int32](repeating: -1, count: 6)
        func closeAll() { for fd in fds where fd >= 0 { close(fd) } }
        for i in stride(from: 0, to: 6, by: 2) {
            guard fds.withUnsafeMutableBufferPointer({ pipe($0.baseAddress! + i) }) == 0 else {
                let e = errno
                closeAll()
                throw .failed("cannot create pipes to run \(path): \(String(cString: strerror(e)))", errno: e)
            }
        }
        for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        // fds: 0/1 stdin (child reads 0), 2/3 stdout (child writes 3), 4/5 stderr (child writes 5).
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        // dup2 clears FD_CLOEXEC on the child's 0, 1 and 2; every other descriptor closes on exec.
        posix_spawn_file_actions_adddup2(&actions, fds[0], 0)
        posix_spawn_file_actions_adddup2(&actions, fds[3], 1)
        posix_spawn_file_actions_adddup2(&actions, fds[5], 2)


        let argv = ([path] + arguments).map { strdup($0) } + [nil]
        defer { for p in argv { free(p) } }
        var pid: pid_t = 0
        // The child starts with no blocked signals and SIGPIPE at its default, whatever the caller set.
        let spawnError = SpawnAttributes.with { posix_spawn(&pid, path, &actions, &$0, argv, environ) }
        for i in [0, 3, 5] { close(fds[i]); fds[i] = -1 }
        if spawnError != 0 {
            closeAll()
            throw .failed("cannot start \(path): \(String(cString: strerror(spawnError)))", errno: spawnError)
        }
        return (pid, fds[1], fds[2], fds[4])
    }

    /// Writes `input` to the child's stdin and reads its stdout and stderr until both end.
    /// Closes all three descriptors.
    private static func exchange(input: [UInt8], stdin: Int32, stdout: Int32, stderr: Int32) -> ([UInt8], [UInt8]) {
        // A tool that exits early (a bad line) closes its stdin: block SIGPIPE on this thread so
        // the write fails with EPIPE instead of killing lvsh, and discard the pending signal after.
        var pipeOnly = sigset_t(), previous = sigset_t()
        sigemptyset(&pipeOnly)
        sigaddset(&pipeOnly, SIGPIPE)
        pthread_sigmask(SIG_BLOCK, &pipeOnly, &previous)
        defer {
            var timeout = timespec(tv_sec: 0, tv_nsec: 0)
            while sigtimedwait(&pipeOnly, nil, &timeout) == SIGPIPE {}
            pthread_sigmask(SIG_SETMASK, &previous, nil)
        }

        for fd in [stdin, stdout, stderr] { _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) }
        var written = 0
        var inFD = stdin
        if input.isEmpty { close(inFD); inFD = -1 }
        var outputs: [[UInt8]] = [[], []]
        var readFDs = [stdout, stderr]
        var buffer = [UInt8](repeating: 0, count: 65536)
        while inFD >= 0 || readFDs.contains(where: { $0 >= 0 }) {
            var polls = [pollfd(fd: inFD, events: Int16(POLLOUT), revents: 0)]
                + readFDs.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
            if poll(&polls, nfds_t(polls.count), -1) < 0 {
                if errno == EINTR { continue }
                break
            }
            if inFD >= 0 && polls[0].revents != 0 {
                let n = input[written...].withUnsafeBytes { write(inFD, $0.baseAddress, $0.count) }
                if n > 0 { written += n }
                if (n < 0 && errno != EAGAIN && errno != EINTR) || written == input.count {
                    close(inFD)
                    inFD = -1
                }
            }
            for i in 0..<2 where readFDs[i] >= 0 && polls[i + 1].revents != 0 {
                let n = buffer.withUnsafeMutableBytes { read(readFDs[i], $0.baseAddress, $0.count) }
                if n > 0 {
                    outputs[i].append(contentsOf: buffer[0..<n])
                } else if n == 0 || (errno != EAGAIN && errno != EINTR) {
                    close(readFDs[i])
                    readFDs[i] = -1
                }
            }
        }
        return (outputs[0], outputs[1])
    }
}

private extension Substring {
    /// The text without leading and trailing spaces and tabs.
    var trimmingSpaces: String {
        String(self.drop(while: { $0 == " " || $0 == "\t" }).reversed().drop(while: { $0 == " " || $0 == "\t" }).reversed())
    }
}
