import Engine
import LVSModel

/// The state `show running-config` prints, as parts: what `lvsh adopt` reads and adds groups to.
public struct KernelConfiguration: Sendable {
    public var table: IPVSTable
    /// lvsh's own groups.
    public var groups: [PortGroup]
    public var timeouts: Timeouts?
    public var daemons: [SyncDaemon]
    public var sysctls: [(String, String)]
    public var health: HealthConfig

    init(table: IPVSTable, groups: [PortGroup], timeouts: Timeouts?, daemons: [SyncDaemon], sysctls: [(String, String)], health: HealthConfig) {
        self.table = table
        self.groups = groups
        self.timeouts = timeouts
        self.daemons = daemons
        self.sysctls = sysctls
        self.health = health
    }

    init(reading ctx: ShowContext) throws(LVSError) {
        self = try SystemCommands.configParts(ctx)
    }

    /// The marks of the IPVS fwmark services.
    public var serviceMarks: Set<UInt32> {
        Set(table.services.compactMap { if case .fwmark(let m, _) = $0.service.key { m } else { nil } })
    }

    /// A group as lvsh commands, as running-config writes it.
    public static func commands(for group: PortGroup) -> [String] {
        GroupCommands.commands(for: group)
    }

    /// `show running-config`'s text, with `extra` groups beside lvsh's own.
    public func render(extra: [PortGroup] = []) -> String {
        RunningConfig.render(table: table, groups: groups + extra, timeouts: timeouts, daemons: daemons, sysctls: sysctls, health: health)
    }
}

extension Session {
    /// The running configuration's parts, read from the kernel (no lock: it writes nothing).
    public func kernelConfiguration() throws(LVSError) -> KernelConfiguration {
        do throws(LVSError) {
            return try KernelConfiguration(reading: showContext)
        } catch {
            throw LVSError(error.code, "cannot read the kernel's configuration: \(error.message)", errno: error.errno)
        }
    }
}
