import Glibc
import Testing

/// Runs test code in a fresh network namespace, never the machine's own.
///
/// Why this way: a network namespace belongs to a thread, and a child started by posix_spawn
/// inherits its caller thread's. A synchronous test body runs on one thread from start to end, so
/// `unshare(CLONE_NEWNET)` on that thread puts the backend, every tool it starts and every witness
/// `iptables-save` in the new namespace, with the production code unchanged (it reads
/// /proc/thread-self/net for this reason). `setns` puts the thread back afterwards, so the pool
/// thread is clean for the next test; the namespace dies with its last user, leaving nothing to
/// clean up (unlike `ip netns add`). Glibc's Swift module hides unshare and setns (_GNU_SOURCE),
/// so they are looked up with dlsym.
enum NetworkNamespace {
    private typealias Unshare = @convention(c) (Int32) -> Int32
    private typealias SetNS = @convention(c) (Int32, Int32) -> Int32
    private static let newNet: Int32 = 0x4000_0000   // CLONE_NEWNET

    private static func function<T>(_ name: String, as type: T.Type) -> T? {
        guard let handle = dlopen(nil, RTLD_NOW), let symbol = dlsym(handle, name) else { return nil }
        return unsafeBitCast(symbol, to: type)
    }

    /// Whether the calling thread can enter a new network namespace (root, namespaces built in).
    static let isAvailable: Bool = getuid() == 0 && function("unshare", as: Unshare.self) != nil

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// The inode of the calling thread's network namespace.
    static func current() -> UInt {
        var st = stat()
        return stat("/proc/thread-self/ns/net", &st) == 0 ? UInt(st.st_ino) : 0
    }

    /// Runs `body` in a new, empty network namespace (only `lo`, down) on this thread, then returns
    /// the thread to the namespace it was in.
    static func run<T>(_ body: () throws -> T) throws -> T {
        guard let unshare = function("unshare", as: Unshare.self), let setns = function("setns", as: SetNS.self) else {
            throw Failure(description: "unshare/setns not found in libc")
        }
        let home = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC)
        guard home >= 0 else { throw Failure(description: "cannot open /proc/thread-self/ns/net") }
        defer { close(home) }
        let homeID = current()
        guard unshare(newNet) == 0 else { throw Failure(description: "unshare(CLONE_NEWNET): \(String(cString: strerror(errno)))") }
        defer {
            // Staying in the test's namespace would confuse later tests on this thread: stop instead.
            if setns(home, newNet) != 0 || current() != homeID { fatalError("cannot return to the original network namespace") }
        }
        // Belt and braces: never run a kernel test in the machine's own namespace.
        guard current() != homeID else { throw Failure(description: "unshare did not change the network namespace") }
        return try body()
    }
}
