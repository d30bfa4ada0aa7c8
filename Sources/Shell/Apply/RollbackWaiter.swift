#if canImport(Glibc)
import Glibc
#endif
import LVSModel
import System
import Engine

/// The other half of `apply --confirm`: a detached lvsh that waits, and unless `lvsh confirm` removed
/// the pending marker, applies the saved previous state (with --prune) — like Junos `commit confirmed`.
public enum RollbackWaiter {
    /// The hidden command line the waiter runs as.
    public static let command = "internal-rollback"

    static func spawn(dir: RuntimeDirectory, seconds: Int) throws(LVSError) {
        // The waiter holds a shared lock on the marker for its whole life: the descriptor taken here
        // passes to it across the spawn, so the lock is held from before it runs, and the kernel lets
        // go of it when the waiter ends however it ends (kill -9 included). `confirm` tells a marker
        // whose waiter is gone by that.
        let marker = open(dir.pendingPath, O_RDONLY)
        guard marker >= 0, flock(marker, LOCK_SH) == 0 else {
            let e = errno
            if marker >= 0 { close(marker) }
            throw .failed("cannot hold the pending marker \(dir.pendingPath): \(String(cString: strerror(e)))")
        }
        defer { close(marker) }
        var attr = posix_spawnattr_t()
        posix_spawnattr_init(&attr)
        defer { posix_spawnattr_destroy(&attr) }
        // Its own session: closing the operator's terminal must not kill the rollback.
        // POSIX_SPAWN_SETSID (glibc 2.26) is hidden behind _GNU_SOURCE from Swift's Glibc module.
        let setsid: Int16 = 0x80
        posix_spawnattr_setflags(&attr, setsid)
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        // The waiter keeps the marker (as descriptor 3) and nothing else of this process: a netlink
        // socket, or a pipe its caller leaked to it, kept for the whole wait made a caller that reads
        // to the end of its output (a test harness) wait for the rollback too.
        posix_spawn_file_actions_adddup2(&actions, marker, 3)
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, dir.path + "/rollback.log", O_WRONLY | O_CREAT | O_APPEND, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        addCloseFrom(&actions, 4)
        let args = ["lvsh", command, dir.path, String(seconds)]
        var argv: [UnsafeMutablePointer<CChar>?] = args.map { strdup($0) } + [nil]
        defer { for p in argv { free(p) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, "/proc/self/exe", &actions, &attr, &argv, environ)
        if rc != 0 { throw .failed("cannot start the rollback timer: \(String(cString: strerror(rc)))") }
    }

    /// Runs in the detached process: sleep, then roll back if its own apply is still pending.
    public static func run(dir path: String, seconds: Int, session: Session) -> Int32 {
        let dir = RuntimeDirectory(path: path)
        // The marker names the apply that armed this waiter (written before the spawn): a later
        // `apply --confirm` rewrites it, and this waiter must then leave the rollback to that one's.
        guard let armed = ProcFile.read(dir.pendingPath) else { return 0 }
        var remaining = UInt32(max(0, seconds))
        while remaining > 0 { remaining = sleep(remaining) }
        // Checked and acted on under the writer lock, which `lvsh confirm` also takes: checked
        // before it, a confirm arriving meanwhile said "confirmed" and the rollback ran anyway.
        let lock: WriterLock
        do { lock = try WriterLock(dir) } catch {
            session.err("lvsh: the rollback cannot take the writer lock: \(error.message)\n")
            return error.code.rawValue
        }
        defer { withExtendedLifetime(lock) {} }
        guard ProcFile.read(dir.pendingPath) == armed else { return 0 }
        session.err("lvsh: no `lvsh confirm` within \(seconds) s: restoring the state from before the apply\n")
        var options = ApplyOptions()
        options.prune = true
        var runner = ApplyRunner(session: session, options: options)
        runner.front = "confirm-rollback"
        runner.source = "the state before an unconfirmed apply --confirm"
        let code = runner.run(path: dir.rollbackPath)
        unlink(dir.pendingPath)
        return code
    }

    /// `lvsh confirm`: keeps the applied state.
    static func confirm(_ kernel: KernelAccess) throws(LVSError) -> String {
        guard let dir = try kernel.runtime() else { return "nothing to confirm: no apply --confirm is pending here\n" }
        let lock = try WriterLock(dir)
        defer { withExtendedLifetime(lock) {} }
        let marker = open(dir.pendingPath, O_RDONLY | O_CLOEXEC)
        guard marker >= 0 else { return "nothing to confirm: no apply --confirm is pending here\n" }
        defer { close(marker) }
        // The waiter's shared lock refuses an exclusive one; granted, the waiter is gone.
        let waiterGone = flock(marker, LOCK_EX | LOCK_NB) == 0
        unlink(dir.pendingPath)
        if waiterGone {
            return "nothing to confirm: the rollback timer of the last apply --confirm is gone (killed before its time); the applied state stays\n"
        }
        return "confirmed: the applied state stays\n"
    }
}

/// glibc's posix_spawn_file_actions_addclosefrom_np (2.34; hidden behind _GNU_SOURCE from Swift).
@_silgen_name("posix_spawn_file_actions_addclosefrom_np")
private func addCloseFrom(_ actions: UnsafeMutablePointer<posix_spawn_file_actions_t>, _ from: Int32) -> Int32
