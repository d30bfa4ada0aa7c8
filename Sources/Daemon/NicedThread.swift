#if canImport(Glibc)
import Glibc
#endif
import NIOCore
import NIOPosix

/// An event loop on a thread of its own, below the probes' priority: for the daemon's work that
/// comes in bursts (the controller's reads and plans, a scrape's text), which on threads at the
/// probes' priority made the probes due meanwhile start late.
enum NicedThread {
    /// A new one-thread event loop whose thread runs at `nice`.
    static func loop(nice: Int32) -> any EventLoop {
        let loop = MultiThreadedEventLoopGroup(numberOfThreads: 1).next()
        // On Linux a nice value belongs to a thread, and 0 names the calling one.
        loop.execute { _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, nice) }
        return loop
    }
}
