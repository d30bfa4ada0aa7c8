import Glibc
import LVSModel

extension IPTablesBackend {
    /// Which iptables implementation holds the rules: Debian ships both, and rules written with one
    /// are invisible to the other.
    public enum Flavour: String, Hashable, Sendable, CaseIterable, CustomStringConvertible {
        /// Use the flavour this host's rules already live in (see `IPTablesDetection`).
        case auto
        /// `iptables-legacy`: the x_tables kernel interface (user-mode-linux has only this).
        case legacy
        /// `iptables-nft`: iptables syntax over the nf_tables kernel interface (Debian's default).
        case nft

        public var description: String { rawValue }
    }
}

/// The tool names of one flavour and family, e.g. `ip6tables-legacy-restore`.
struct IPTablesTools: Hashable, Sendable {
    var flavour: IPTablesBackend.Flavour
    var family: IPAddress.Family

    /// The command a user would type, e.g. `iptables-legacy` (for messages).
    var command: String { (family == .v4 ? "iptables" : "ip6tables") + "-" + flavour.rawValue }
    var save: String { command + "-save" }
    var restore: String { command + "-restore" }
}

/// Chooses the flavour for `.auto`: the pure decision, and the order in which facts are gathered so
/// that the common cases cost one tool run or none.
enum IPTablesDetection {
    /// The decision, given what each flavour holds. `nft` is asked for only when legacy has no lvsh
    /// chain; it returns nil when the nft flavour does not work on this kernel.
    ///
    /// 1. lvsh's own chain decides: its rules live where it already is (legacy is asked first).
    /// 2. A flavour that does not work is out (user-mode-linux has no nf_tables: "Failed to initialize nft").
    /// 3. Otherwise the flavour holding more rules, as kube-proxy's iptables-wrapper decides;
    ///    a tie (typically none anywhere) goes to nft, Debian's default since bullseye.
    static func decide(legacy: IPTablesCensus, nft: () -> IPTablesCensus?) -> IPTablesBackend.Flavour {
        if legacy.hasChain { return .legacy }
        guard let nft = nft() else { return .legacy }
        if nft.hasChain { return .nft }
        return legacy.rules > nft.rules ? .legacy : .nft
    }

    /// The legacy tables that exist in this network namespace, from
    /// /proc/thread-self/net/ip{,6}_tables_names. Reading them costs no tool run and, unlike
    /// `iptables-legacy-save -t mangle`, creates no table: merely asking for a legacy table
    /// instantiates it, after which every iptables-nft command warns about legacy tables.
    static func legacyTables(_ family: IPAddress.Family) -> Set<String> {
        let file = family == .v4 ? "ip_tables_names" : "ip6_tables_names"
        // thread-self, not self: a network namespace belongs to a thread, and tests enter one per thread.
        let text = readFile("/proc/thread-self/net/" + file) ?? readFile("/proc/self/net/" + file) ?? ""
        return Set(text.split(separator: "\n").map(String.init))
    }
}

/// A small file's text, or nil when it cannot be opened (a missing names file: no legacy table yet).
private func readFile(_ path: String) -> String? {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var bytes: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 4096)
    while true {
        let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if n < 0 && errno == EINTR { continue }
        guard n > 0 else { break }
        bytes += buffer[0..<n]
    }
    return String(decoding: bytes, as: UTF8.self)
}
