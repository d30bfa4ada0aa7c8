#if canImport(Glibc)
import Glibc
#endif
import IPVS
import LVSModel
import Shell
import System

/// What this host's kernel offers for completion, read from /sys and the module tree.
public enum KernelFacts {
    /// The IPVS modules that are not schedulers.
    static let notSchedulers: Set<String> = ["ftp"]

    /// The kernel's schedulers: loaded ones (/sys/module/ip_vs_NAME, also present for built-ins
    /// with parameters) and loadable ones (ip_vs_NAME.ko[.xz|.zst|.gz] in the running kernel's module
    /// tree; the user-mode-linux lab keeps its modules in /usr/lib/uml/modules). When neither can be
    /// read, the schedulers mainline kernels ship, so completion still helps on a bare system.
    public static func schedulers(sysModule: String = "/sys/module", moduleTrees: [String]? = nil) -> [String] {
        let release = ProcFile.read("/proc/sys/kernel/osrelease").map { String($0.split(separator: "\n").first ?? "") } ?? ""
        let trees = moduleTrees ?? ["/lib/modules/\(release)", "/usr/lib/modules/\(release)", "/usr/lib/uml/modules/\(release)"]
        var names = Directory.names(sysModule).compactMap(schedulerName)
        for tree in trees {
            names += Directory.names(tree + "/kernel/net/netfilter/ipvs").compactMap { file -> String? in
                guard let ko = file.firstRange(of: ".ko") else { return nil }
                return schedulerName(String(file[..<ko.lowerBound]))
            }
        }
        let found = Set(names)
        return found.isEmpty ? ["dh", "fo", "lblc", "lblcr", "lc", "mh", "nq", "ovf", "rr", "sed", "sh", "twos", "wlc", "wrr"]
            : found.sorted()
    }

    /// "ip_vs_wrr" → "wrr"; nil for ip_vs itself, the ftp helper and persistence engines (ip_vs_pe_sip).
    static func schedulerName(_ module: String) -> String? {
        guard module.hasPrefix("ip_vs_") else { return nil }
        let name = String(module.dropFirst(6))
        guard !name.isEmpty, !name.hasPrefix("pe_"), !notSchedulers.contains(name) else { return nil }
        return name
    }

    /// The network interfaces of this namespace (/sys/class/net shows the namespace sysfs was mounted in,
    /// which `ip netns exec` arranges).
    public static func interfaces(sysClassNet: String = "/sys/class/net") -> [String] {
        Directory.names(sysClassNet).sorted()
    }
}

/// Directory listings without Foundation.
enum Directory {
    /// The names in a directory, without . and ..; empty when it cannot be read.
    static func names(_ path: String) -> [String] {
        guard let dir = opendir(path) else { return [] }
        defer { closedir(dir) }
        var out: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name != "." && name != ".." { out.append(name) }
        }
        return out
    }
}

extension LiveValues {
    /// The values of the kernel lvsh runs on, read through the session on each TAB press.
    public static func kernel(_ session: Session) -> LiveValues {
        var values = LiveValues(
            groups: { session.groupsForCompletion().map { (name: $0.name, mark: $0.mark) } },
            services: {
                session.servicesForCompletion().map { s in
                    LiveService(key: s.service.key, realServers: s.realServers.map {
                        RealServerKey(address: $0.server.address, port: $0.server.port)
                    })
                }
            },
            schedulers: { KernelFacts.schedulers() },
            interfaces: { KernelFacts.interfaces() },
            sysctls: { SysctlCatalog.all.flatMap { [$0.shortName, $0.name] } })
        values.checks = { session.checksForCompletion() }
        return values
    }
}
