import LVSModel
import System

/// The namespace's writer lock, held once per process. Nested holders — a batch that loads a file, the
/// `confirm` after a change, an apply started from the console — share the lock the process already
/// has instead of waiting on their own descriptor for ever (flock locks per open file description, so
/// a second open of the same file in the same process blocks like any other process would).
package final class WriterLock {
    /// Per runtime folder: the kernel lock and how many holders in this process share it. lvsh runs
    /// batches on one thread; the daemon (step 7) serialises its writers through one Transaction queue.
    nonisolated(unsafe) private static var held: [String: (lock: NamespaceLock, holders: Int)] = [:]

    private let path: String

    /// Takes the namespace's lock, or joins this process's hold of it.
    package init(_ dir: RuntimeDirectory, wait: Bool = true) throws(LVSError) {
        path = dir.path
        if let entry = Self.held[path] {
            Self.held[path] = (entry.lock, entry.holders + 1)
        } else {
            Self.held[path] = (try NamespaceLock(dir, wait: wait), 1)
        }
    }

    /// Whether this process holds the lock of `dir` now (for tests and assertions).
    static func isHeld(_ dir: RuntimeDirectory) -> Bool { held[dir.path] != nil }

    deinit {
        guard let entry = Self.held[path] else { return }
        // The last holder closes the descriptor, which releases the kernel's lock.
        Self.held[path] = entry.holders > 1 ? (entry.lock, entry.holders - 1) : nil
    }
}
