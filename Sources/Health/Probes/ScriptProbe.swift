import Glibc
import LVSModel
import NIOCore
import NIOPosix
import Synchronization
import System

/// script: a program run with posix_spawn (no shell, no Foundation) in its own process group,
/// waited for on a thread of a NIOThreadPool, and killed with its group when the timeout comes
/// (keepalived's MISC_CHECK). It gets the probed address in LVSH_ADDRESS; its output goes to /dev/null.
enum ScriptProbe {
    static func run(argv: [String], address: IPAddress?, timeoutMilliseconds: UInt32, pool: NIOThreadPool,
                    on loop: any EventLoop) -> EventLoopFuture<ProbeVerdict> {
        guard let program = argv.first, !program.isEmpty else { return loop.makeSucceededFuture(.failed("no program to run")) }
        let child = ScriptChild()
        return pool.runIfActive(eventLoop: loop) { () -> ProbeVerdict in
            let environment = address.map { ["LVSH_ADDRESS=\($0)"] } ?? []
            let pid: pid_t
            switch spawn(argv, environment: environment) {
            case .success(let p): pid = p
            case .failure(let error): return .failed("cannot run \(program): \(String(cString: strerror(error.code)))")
            }
            child.started(pid)
            let timer = loop.scheduleTask(in: .milliseconds(Int64(timeoutMilliseconds))) { child.kill() }
            let status = child.wait()
            timer.cancel()
            if child.wasKilled { return .failed("no exit within \(timeoutMilliseconds) ms: killed") }
            // Decode the wait status by hand: the W* macros do not import into Swift.
            let signal = status & 0x7f
            let verdict = ProgramVerdict.script(status: (status >> 8) & 0xff, signal: signal == 0 ? nil : signal)
            return ProbeVerdict(ok: verdict.ok, reason: verdict.reason, adjustment: verdict.adjustment)
        }
        .recover { .failed("cannot run \(program): \($0)") }
    }

    /// Starts the program with stdin, stdout and stderr on /dev/null, in a process group of its own,
    /// with no blocked signals and SIGPIPE at its default whatever the daemon's threads set.
    static func spawn(_ argv: [String], environment: [String]) -> Result<pid_t, SpawnError> {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        var env: [String] = []
        var e = environ
        while let entry = e.pointee {
            let text = String(cString: entry)
            if !text.hasPrefix("LVSH_ADDRESS=") { env.append(text) }
            e += 1
        }
        env += environment
        let cArgv = argv.map { strdup($0) } + [nil]
        let cEnv = env.map { strdup($0) } + [nil]
        defer {
            for p in cArgv { free(p) }
            for p in cEnv { free(p) }
        }
        var pid: pid_t = 0
        let rc = SpawnAttributes.with(ownProcessGroup: true) { posix_spawnp(&pid, argv[0], &actions, &$0, cArgv, cEnv) }
        return rc == 0 ? .success(pid) : .failure(SpawnError(code: rc))
    }
}

/// posix_spawn's error number.
struct SpawnError: Error { var code: CInt }

/// A running script: the thread that waits and the timer that kills share it. The process is
/// reaped only after the lock records its exit, so the kill can never reach a recycled pid.
final class ScriptChild: Sendable {
    private struct State {
        var pid: pid_t = 0
        var exited = false
        var killed = false
    }
    private let state = Mutex(State())

    func started(_ pid: pid_t) { state.withLock { $0.pid = pid } }

    var wasKilled: Bool { state.withLock { $0.killed } }

    func kill() {
        state.withLock { s in
            guard s.pid > 0, !s.exited else { return }
            s.killed = true
            _ = Glibc.kill(-s.pid, SIGKILL)
        }
    }

    /// Blocks until the program exits; returns its wait status.
    func wait() -> Int32 {
        let pid = state.withLock { $0.pid }
        var info = siginfo_t()
        // Wait without reaping (WNOWAIT): the zombie keeps the pid until the lock says it exited.
        while waitid(P_PID, id_t(pid), &info, WEXITED | WNOWAIT) < 0 && errno == EINTR {}
        state.withLock { $0.exited = true }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        return status
    }
}
