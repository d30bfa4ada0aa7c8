#if canImport(Glibc)
import Glibc
#endif
import IPVS
import LVSModel
import System

/// lvsh's settings (`set NAME VALUE`), kept in a small file of `set` lines: /etc/lvsh/lvsh.conf.
public struct Settings: Hashable, Sendable {
    public static let defaultPath = "/etc/lvsh/lvsh.conf"

    /// Every setting: its values and what it does.
    public static let known: [(name: String, values: [String], help: String)] = [
        ("backend", ["auto", "nft", "iptables"], "firewall-mark backend (auto: nftables where the kernel has the inet family)"),
        ("auto-sysctl", ["on", "off"], "let lvsh turn on the sysctls a configuration needs (forwarding for NAT), and say so"),
        ("archive", ["on", "off"], "keep the configuration after each change in /var/lib/lvsh/archive (off: only log it; each archived change reads the whole state)"),
    ]

    public var values: [String: String] = [:]

    public init(values: [String: String] = [:]) { self.values = values }

    public var backend: String? { values["backend"].flatMap { $0 == "auto" ? nil : $0 } }
    public var autoSysctl: Bool { values["auto-sysctl"] != "off" }
    public var archive: Bool { values["archive"] != "off" }

    /// Reads the file; a missing file means the defaults.
    public static func load(_ path: String) throws(LVSError) -> Settings {
        guard let text = ProcFile.read(path) else { return Settings() }
        var s = Settings()
        for (i, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let words = line.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
            if words.isEmpty || words[0].hasPrefix("#") { continue }
            guard words.count == 3, words[0] == "set" else {
                throw .badInput("\(path):\(i + 1): expected `set NAME VALUE`, got `\(Shown.line(line))`")
            }
            try s.set(words[1], words[2], where: "\(path):\(i + 1): ")
        }
        return s
    }

    public mutating func set(_ name: String, _ value: String, where prefix: String = "") throws(LVSError) {
        guard let spec = Settings.known.first(where: { $0.name == name }) else {
            throw .badInput("\(prefix)unknown setting '\(Shown.word(name))'; settings: \(Settings.known.map(\.name).joined(separator: ", "))")
        }
        guard spec.values.contains(value) else {
            throw .badInput("\(prefix)setting \(name) takes \(spec.values.joined(separator: ", ")), not '\(Shown.word(value))'")
        }
        values[name] = value
    }

    public var text: String {
        "# lvsh settings (written by `set NAME VALUE`)\n" + values.keys.sorted().map { "set \($0) \(values[$0]!)\n" }.joined()
    }
}
