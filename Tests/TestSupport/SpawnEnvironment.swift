import Foundation
import Synchronization

/// Folders of a test process's own under the temporary folder, removed when the process exits.
public enum TemporaryFolders {
    private static let made = Mutex<[String]>([])

    /// A new folder `NSTemporaryDirectory()/PREFIX-RANDOM` (creating it fails if the name is taken).
    public static func make(_ prefix: String) throws -> String {
        let path = NSTemporaryDirectory() + prefix + "-" + UUID().uuidString.prefix(12).lowercased()
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
        remember(path)
        return path
    }

    /// Removes `path` (a folder the caller made) when the process exits.
    public static func remember(_ path: String) {
        let first = made.withLock { made in
            made.append(path)
            return made.count == 1
        }
        if first { atexit { TemporaryFolders.removeAll() } }
    }

    private static func removeAll() {
        for path in made.withLock({ $0 }) { try? FileManager.default.removeItem(atPath: path) }
    }
}

/// The environment of an lvsh a test spawns: its archive (LVSH_STATE_DIR), its log socket
/// (LVSH_LOG_SOCKET, absent, so nothing is logged) and its runtime folders (LVSH_RUNTIME_DIR) in the
/// test process's temporary folder, never the machine's /var/lib/lvsh, /dev/log or /run/lvsh. The
/// folder goes when the test process exits.
public enum SpawnEnvironment {
    /// This process's environment with the three set to `NSTemporaryDirectory()/lvsh-KIND-state-PID`
    /// unless already set (a test that reads them passes its own).
    public static func make(kind: String, base: [String: String] = ProcessInfo.processInfo.environment) -> [String: String] {
        var env = base
        let state = NSTemporaryDirectory() + "lvsh-\(kind)-state-\(getpid())"
        if (try? FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: false)) != nil {
            TemporaryFolders.remember(state)
        }
        if env["LVSH_STATE_DIR"] == nil { env["LVSH_STATE_DIR"] = state }
        if env["LVSH_LOG_SOCKET"] == nil { env["LVSH_LOG_SOCKET"] = state + "/no-log.sock" }
        if env["LVSH_RUNTIME_DIR"] == nil { env["LVSH_RUNTIME_DIR"] = state + "/run" }
        return env
    }
}
