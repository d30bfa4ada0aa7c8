#if canImport(Glibc)
import Glibc
#endif
import Engine
import IPVS
import System
import LVSModel

/// Whether lvsh may reach the kernel, and which commands need it. IPVS and nf_tables answer only a
/// process with CAP_NET_ADMIN, and /run/lvsh (the writer lock, rollbacks) is root's: without them a
/// command says so up front, rather than "no groups" or "Permission denied" on a lock file.
public enum Privilege {
    public static let message = "lvsh needs root (CAP_NET_ADMIN) for this: IPVS, the firewall marks and /run/lvsh "
        + "belong to root. Run it as root (e.g. with sudo); only help, set and realserver script work without."

    public static var error: LVSError { .failed(message) }

    /// Whether the process has CAP_NET_ADMIN in its effective capabilities (CapEff of /proc/self/status).
    public static func hasNetAdmin() -> Bool {
        let netAdmin: UInt64 = 1 << 12   // CAP_NET_ADMIN
        guard let status = ProcFile.read("/proc/self/status") else { return geteuid() == 0 }
        for line in status.split(separator: "\n") where line.hasPrefix("CapEff:") {
            let hex = line.dropFirst("CapEff:".count).filter { !$0.isWhitespace }
            if let caps = UInt64(hex, radix: 16) { return caps & netAdmin != 0 }
        }
        return geteuid() == 0
    }

    /// Whether any of the commands reads or changes the kernel or /run/lvsh. Commands that do not
    /// parse count as not needing it: the batch reports them as bad input (exit 2) first.
    public static func needsKernel(_ commands: [CommandInput], ipvsadm: (any EmbeddedLanguage)?) -> Bool {
        var needs = false
        for input in commands {
            var words = input.words
            if let bar = words.firstIndex(of: "|") { words = Array(words[..<bar]) }
            guard case .success(let (command, bindings)) = Catalog.table.parse(words) else { return false }
            needs = needs || needsKernel(command, bindings, ipvsadm: ipvsadm)
        }
        return needs
    }

    static func needsKernel(_ command: Command, _ bindings: Bindings, ipvsadm: (any EmbeddedLanguage)?) -> Bool {
        switch command.handler {
        case .help, .quit, .session: false
        // Lines that do not parse count as not needing it: their error comes first.
        case .ipvsadm: (try? ipvsadm?.parse(bindings.all("args")))?.needsKernel ?? false
        // `show sysctl` reads /proc/sys, and IPVS only if it can; a script is only printed.
        case .show: !["show sysctl", "realserver script"].contains(command.name)
        // Settings live in lvsh.conf.
        case .write: command.name != "set"
        case .change, .include, .alone: true
        }
    }
}
