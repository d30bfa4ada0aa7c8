#if canImport(Glibc)
import Glibc
#endif

/// posix_spawn attributes for a child that must not inherit the caller's signal state: no blocked
/// signals and SIGPIPE at its default, whatever the daemon's or the front's threads set; optionally
/// in a process group of its own (so a timeout can kill the whole group).
public enum SpawnAttributes {
    public static func with<T>(ownProcessGroup: Bool = false, _ body: (inout posix_spawnattr_t) -> T) -> T {
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t(), pipeOnly = sigset_t()
        sigemptyset(&empty)
        sigemptyset(&pipeOnly)
        sigaddset(&pipeOnly, SIGPIPE)
        posix_spawnattr_setsigmask(&attributes, &empty)
        posix_spawnattr_setsigdefault(&attributes, &pipeOnly)
        var flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF
        if ownProcessGroup {
            posix_spawnattr_setpgroup(&attributes, 0)
            flags |= POSIX_SPAWN_SETPGROUP
        }
        posix_spawnattr_setflags(&attributes, Int16(flags))
        return body(&attributes)
    }
}
