import LVSModel
import Synchronization
import System

/// The namespace's writer lock, held once per process. Nested holders — a batch that loads a file, the
/// `confirm` after a change, an apply started from the console — share the lock the process already
/// has instead of waiting on their own descriptor for ever (flock locks per open file description, so
/// a second open of the same file in the same process blocks like any other process would).
package final class WriterLock {
    /// Per runtime folder: the kernel lock and how many holders in this process share it. Behind a
    /// mutex: two daemons' controllers in one process (the tests) took it from two threads at once,
    /// and the unguarded dictionary crashed.
    private static let held = Mutex<[String: (lock: NamespaceLock, holders: Int)]>([:])

    private let path: String

    /// Takes the namespace's lock, or joins this process's hold of it.
    package init(_ dir: RuntimeDirectory, wait: Bool = true) throws(LVSError) {
        path = dir.path
        // Taken inside the mutex: another thread of this process then joins this hold instead of
        // opening a second descriptor, whose flock would wait on this one for ever.
        let path = dir.path
        try Self.held.withLock { (held) throws(LVSError) in
            if let entry = held[path] {
                held[path] = (entry.lock, entry.holders + 1)
            } else {
                // Made from the path alone, so that the lock belongs to the mutex's region.
                held[path] = (try NamespaceLock(RuntimeDirectory(path: path), wait: wait), 1)
            }
        }
    }

    /// Whether this process holds the lock of `dir` now (for tests and assertions).
    static func isHeld(_ dir: RuntimeDirectory) -> Bool { held.withLock { $0[dir.path] != nil } }

    deinit {
        Self.held.withLock { held in
            guard let entry = held[path] else { return }
            // The last holder closes the descriptor, which releases the kernel's lock.
            held[path] = entry.holders > 1 ? (entry.lock, entry.holders - 1) : nil
        }
    }
}
