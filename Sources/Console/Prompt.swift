#if canImport(Glibc)
import Glibc
#endif

/// Which network namespace lvsh runs in, as far as the prompt is concerned.
public enum NetworkNamespace: Equatable, Sendable {
    /// The host's own (the one of PID 1): nothing to say.
    case initial
    /// One that `ip netns` named: /run/netns/NAME is the same namespace.
    case named(String)
    /// Another, without a name: its inode, as `readlink /proc/PID/ns/net` and lsns show it.
    case anonymous(UInt64)
    /// PID 1's namespace cannot be read (a container may hide it) and ours has no name.
    case unknown

    /// The namespace of this process. The name follows `ip netns identify`: the first entry of
    /// `netnsDirectory` that is the same namespace file (device and inode).
    public static func current(netnsDirectory: String = "/run/netns", initial: String = "/proc/1/ns/net") -> NetworkNamespace {
        guard let mine = identity("/proc/self/ns/net") else { return .unknown }
        let first = identity(initial)
        if first == mine { return .initial }
        for name in Directory.names(netnsDirectory).sorted() where identity(netnsDirectory + "/" + name) == mine {
            return .named(name)
        }
        return first == nil ? .unknown : .anonymous(mine.inode)
    }

    private static func identity(_ path: String) -> Identity? {
        var st = stat()
        guard stat(path, &st) == 0 else { return nil }
        return Identity(device: UInt64(st.st_dev), inode: UInt64(st.st_ino))
    }

    private struct Identity: Equatable {
        var device: UInt64
        var inode: UInt64
    }
}

/// The console's prompt: `lvsh@HOST(nft)> `, and `lvsh@HOST(nft netns NAME)> ` away from the host's
/// namespace, where a change would otherwise land somewhere the user did not expect. The host name
/// says which director a terminal is on, as a router's CLI does.
public enum Prompt {
    public static func text(host: String?, backend: String?, namespace: NetworkNamespace) -> String {
        var parts: [String] = []
        if let backend { parts.append(backend) }
        switch namespace {
        case .initial, .unknown: break
        case .named(let name): parts.append("netns \(name)")
        case .anonymous(let inode): parts.append("netns net:[\(inode)]")
        }
        let who = host.map { $0.isEmpty ? "lvsh" : "lvsh@\($0)" } ?? "lvsh"
        return parts.isEmpty ? "\(who)> " : "\(who)(\(parts.joined(separator: " ")))> "
    }

    /// This host's name up to its first dot (as the shell prompt escape \h shows it); nil when it has none.
    public static func hostName() -> String? {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return nil }
        let name = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let short = name.split(separator: ".").first.map(String.init) ?? ""
        return short.isEmpty ? nil : short
    }
}

/// Where the console keeps its history: $LVSH_HISTORY (empty: no file), else .lvsh_history in $HOME,
/// else in the effective user's home directory from the password database (when HOME is unset).
public enum HistoryFile {
    public static func path(environment: (String) -> String? = { getenv($0).map { String(cString: $0) } },
                            home: () -> String? = passwordHome) -> String? {
        if let explicit = environment("LVSH_HISTORY") { return explicit.isEmpty ? nil : explicit }
        let fromEnvironment = environment("HOME").flatMap { $0.isEmpty ? nil : $0 }
        guard let dir = fromEnvironment ?? home(), !dir.isEmpty else { return nil }
        return dir.hasSuffix("/") ? dir + ".lvsh_history" : dir + "/.lvsh_history"
    }

    public static func passwordHome() -> String? {
        guard let pw = getpwuid(geteuid()), let dir = pw.pointee.pw_dir else { return nil }
        return String(cString: dir)
    }
}
