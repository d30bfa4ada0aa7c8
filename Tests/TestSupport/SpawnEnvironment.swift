import Foundation

/// The environment of an lvsh a test spawns: its archive (LVSH_STATE_DIR), its log socket
/// (LVSH_LOG_SOCKET, absent, so nothing is logged) and its runtime folders (LVSH_RUNTIME_DIR) in the
/// test process's temporary folder, never the machine's /var/lib/lvsh, /dev/log or /run/lvsh.
public enum SpawnEnvironment {
    /// This process's environment with the three set to `NSTemporaryDirectory()/lvsh-KIND-state-PID`
    /// unless already set (a test that reads them passes its own).
    public static func make(kind: String, base: [String: String] = ProcessInfo.processInfo.environment) -> [String: String] {
        var env = base
        let state = NSTemporaryDirectory() + "lvsh-\(kind)-state-\(getpid())"
        try? FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: true)
        if env["LVSH_STATE_DIR"] == nil { env["LVSH_STATE_DIR"] = state }
        if env["LVSH_LOG_SOCKET"] == nil { env["LVSH_LOG_SOCKET"] = state + "/no-log.sock" }
        if env["LVSH_RUNTIME_DIR"] == nil { env["LVSH_RUNTIME_DIR"] = state + "/run" }
        return env
    }
}
